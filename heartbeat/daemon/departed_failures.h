// Failures of applications that went away without deregistering (exit,
// crash, kill -9). One per application name (a name that dies again replaces
// its entry), each kept for FAILURE_RETENTION_SECS so that the host hears of
// it and the guest does not claim health right after a death, and at most
// MAX_APPLICATIONS of them (the oldest give way). A name that registers
// again is back, and its failure is forgotten.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "gsdk/event_loop.h"
#include "health_verdict.h"

namespace gsdk::heartbeat {

class DepartedFailures {
public:
    DepartedFailures(std::size_t capacity, std::chrono::seconds retention)
        : capacity_(capacity < 1 ? 1 : capacity), retention_(retention) {}

    void add(HealthFinding failure, Clock::time_point now);
    // True if there was one.
    bool forget(const std::string& name);
    // Drops those older than the retention; true if any went.
    bool expire(Clock::time_point now);
    std::vector<HealthFinding> findings() const;
    std::size_t size() const { return by_name_.size(); }
    bool empty() const { return by_name_.empty(); }

private:
    struct Entry {
        HealthFinding finding;
        Clock::time_point at;
    };
    std::size_t capacity_;
    std::chrono::seconds retention_;
    std::map<std::string, Entry> by_name_;
    // Oldest first, for expiry and eviction without a scan.
    std::multimap<Clock::time_point, std::string> by_time_;
    void erase_from_time_index(const std::string& name, Clock::time_point at);
};

}  // namespace gsdk::heartbeat
