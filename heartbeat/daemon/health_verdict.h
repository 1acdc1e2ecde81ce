// Merging the health of everything the daemon supervises into the one answer
// a challenge gets, and keeping the same failure from being re-reported with
// its action within the suppression window (a reboot-loop guard,
// docs/protocols/heartbeat.md#suppression-of-repeated-failures). Merge first,
// then suppress: the window can only turn the merged action into "none",
// never hide a failure or pick a lesser action.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "heartbeat_host_wire.h"

namespace gsdk::heartbeat {

struct HealthFinding {
    std::string source;  // an application name, or the health script's reserved name
    bool healthy = true;
    hbwire::CorrectiveAction action = hbwire::CorrectiveAction::None;
    std::string detail;  // why it is unhealthy
};

struct HealthVerdict {
    bool healthy = true;
    hbwire::CorrectiveAction action;  // the daemon's configured action when healthy
    std::string log_msg;              // empty when healthy
};

// log_msg stays within this many bytes (the wire encoder cuts free text at
// 512): the most severe sources first, then "N more applications failing".
inline constexpr std::size_t kLogMsgBudget = 480;

// stop > reboot > log > none/unknown.
int action_severity(hbwire::CorrectiveAction action);

// Unhealthy if any finding is; the most severe action wins; log_msg names the
// unhealthy sources, most severe first, within kLogMsgBudget.
HealthVerdict merge_health(const std::vector<HealthFinding>& findings, hbwire::CorrectiveAction configured);

class RepeatSuppressor {
public:
    using Clock = std::chrono::steady_clock;
    // At most max_entries (source, action) pairs are remembered; the oldest
    // give way first (they are the nearest to leaving the window anyway).
    explicit RepeatSuppressor(std::chrono::seconds window, std::size_t max_entries = 8192)
        : window_(window), max_entries_(max_entries) {}

    // The verdict to send, given the merged one and the findings behind it:
    // the merged action is reported if one of the sources failing with that
    // action has not been reported with it within the window (all of them
    // are then recorded); otherwise the answer stays unhealthy with action
    // none and the same log_msg.
    HealthVerdict apply(HealthVerdict merged, const std::vector<HealthFinding>& findings, Clock::time_point now);
    std::size_t size() const { return last_reported_.size(); }

private:
    void prune(Clock::time_point now);

    std::chrono::seconds window_;
    std::size_t max_entries_;
    std::map<std::tuple<std::string, int>, Clock::time_point> last_reported_;
    Clock::time_point last_prune_{};
};

}  // namespace gsdk::heartbeat
