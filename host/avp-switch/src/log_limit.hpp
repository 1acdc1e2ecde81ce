// Log lines a peer can provoke (a guest's bad request, a refused client)
// are rate-limited per cause: a burst, then silence, then one line saying
// how many were suppressed. Control thread only.
#pragma once

#include <gsdk/log.h>

#include <chrono>
#include <cstdint>

namespace avpsw {

class LogLimit {
public:
    explicit LogLimit(uint32_t burst = 5, std::chrono::seconds interval = std::chrono::seconds(10))
        : burst_(burst), interval_(interval) {}

    // Logs the line when the budget allows, with a note of what was dropped.
    void log(gsdk::LogLevel level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    uint64_t suppressed_total() const { return suppressed_total_; }

private:
    uint32_t burst_;
    std::chrono::seconds interval_;
    std::chrono::steady_clock::time_point window_start_{};
    uint32_t used_ = 0;
    uint64_t suppressed_ = 0, suppressed_total_ = 0;
};

}  // namespace avpsw
