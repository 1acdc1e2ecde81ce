// Repeated log lines, held back: a peer can make the daemon repeat the same
// line at line rate. Per cause, one line per second; the next line that
// passes says how many were held back. A small local stand-in for the shared
// limiter being added to common/ (swap SG_LOG_LIMITED for it at the merge).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "gsdk/log.h"

namespace gsdk::sg {

class RepeatedLineLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // True if a line for `key` may go out now; *held = lines held back since the last one.
    bool allow(const std::string& key, uint64_t* held, Clock::time_point now = Clock::now()) {
        // Hostile input can invent keys: forget them all rather than grow.
        if (causes_.size() >= 1024 && !causes_.count(key)) causes_.clear();
        Cause& c = causes_[key];
        if (c.seen && now - c.last < std::chrono::seconds(1)) {
            ++c.held;
            return false;
        }
        c.seen = true;
        c.last = now;
        *held = c.held;
        c.held = 0;
        return true;
    }

private:
    struct Cause {
        bool seen = false;
        Clock::time_point last{};
        uint64_t held = 0;
    };
    std::unordered_map<std::string, Cause> causes_;
};

}  // namespace gsdk::sg

// One limiter per call site; `key` (a std::string) separates causes there.
#define SG_LOG_LIMITED(level, key, fmt, ...)                                              \
    do {                                                                                  \
        static ::gsdk::sg::RepeatedLineLimiter sg_limiter_;                               \
        uint64_t sg_held_ = 0;                                                            \
        if (::gsdk::log_enabled(level) && sg_limiter_.allow((key), &sg_held_)) {          \
            if (sg_held_)                                                                 \
                ::gsdk::logf(level, fmt " (%llu similar lines held back)", ##__VA_ARGS__, \
                             static_cast<unsigned long long>(sg_held_));                  \
            else                                                                          \
                ::gsdk::logf(level, fmt, ##__VA_ARGS__);                                  \
        }                                                                                 \
    } while (0)
