// Merging the health of everything the daemon supervises into the one answer
// a challenge gets, and keeping the same failure from being re-reported within
// the suppression window (a reboot loop guard, docs/protocols/heartbeat.md#suppression-of-repeated-failures).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "heartbeat_host_wire.h"

namespace gsdk::heartbeat {

struct HealthFinding {
    std::string source;  // an application name, or "health-script"
    bool healthy = true;
    hbwire::CorrectiveAction action = hbwire::CorrectiveAction::None;
    std::string detail;  // why it is unhealthy
};

struct HealthVerdict {
    bool healthy = true;
    hbwire::CorrectiveAction action;  // the daemon's configured action when healthy
    std::string log_msg;              // empty when healthy
};

// stop > reboot > log > none/unknown.
int action_severity(hbwire::CorrectiveAction action);

// Unhealthy if any finding is; the most severe action wins; log_msg names
// every unhealthy source.
HealthVerdict merge_health(const std::vector<HealthFinding>& findings, hbwire::CorrectiveAction configured);

class RepeatSuppressor {
public:
    using Clock = std::chrono::steady_clock;
    explicit RepeatSuppressor(std::chrono::seconds window) : window_(window) {}

    // Drops the unhealthy findings reported (same source, action and detail
    // class) less than the window ago, and records the ones that pass.
    std::vector<HealthFinding> filter(const std::vector<HealthFinding>& findings, Clock::time_point now);
    void clear() { last_reported_.clear(); }

private:
    std::chrono::seconds window_;
    std::map<std::tuple<std::string, int>, Clock::time_point> last_reported_;
};

}  // namespace gsdk::heartbeat
