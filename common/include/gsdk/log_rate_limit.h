// Rate limiting for repeated log lines (a peer can make a daemon repeat the
// same line at line rate): per cause, at most `burst` lines per period; the
// lines held back are counted and the next line that passes reports how many.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "gsdk/event_loop.h"
#include "gsdk/log.h"

namespace gsdk {

class LogRateLimit {
public:
    explicit LogRateLimit(Millis period = Millis(1000), unsigned burst = 1, std::size_t max_keys = 4096);

    // True if a line for `key` may be written now. *suppressed gets the number
    // of lines for that key held back since the last one that passed.
    bool allow(const std::string& key, uint64_t* suppressed = nullptr);
    // The same, at a given time (tests).
    bool allow_at(const std::string& key, Clock::time_point now, uint64_t* suppressed = nullptr);

    // " (N similar lines suppressed)" or "" when N is 0: appended to the line.
    static std::string suppressed_note(uint64_t suppressed);
    std::size_t keys() const { return causes_.size(); }

private:
    struct Cause {
        Clock::time_point window_start{};
        unsigned passed = 0;  // lines written in the current window
        uint64_t suppressed = 0;
    };
    void forget_old(Clock::time_point now);

    Millis period_;
    unsigned burst_;
    std::size_t max_keys_;
    std::unordered_map<std::string, Cause> causes_;
};

}  // namespace gsdk

// Logs at most once per second per key (a std::string expression), appending
// the count of lines held back. The limiter lives at the call site, so each
// call site is its own family of causes.
#define GSDK_LOG_LIMITED(level, key, fmt, ...)                                                                       \
    do {                                                                                                             \
        static ::gsdk::LogRateLimit gsdk_limit_;                                                                     \
        uint64_t gsdk_held_ = 0;                                                                                     \
        if (::gsdk::log_enabled(level) && gsdk_limit_.allow((key), &gsdk_held_))                                     \
            ::gsdk::logf(level, fmt "%s", ##__VA_ARGS__, ::gsdk::LogRateLimit::suppressed_note(gsdk_held_).c_str()); \
    } while (0)
