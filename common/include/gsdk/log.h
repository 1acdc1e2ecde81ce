// Logging for daemons and host tools: one line per event, naming the cause.
// Under systemd (JOURNAL_STREAM set) lines carry sd-daemon priority prefixes so
// journald records the level; otherwise they get a timestamp and program name.
#pragma once

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gsdk {

enum class LogLevel { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

void log_init(const char* program_name, LogLevel threshold);
void log_set_threshold(LogLevel threshold);
bool log_enabled(LogLevel level);
// Parses "error", "warning", "notice", "info", "debug"; false if unknown.
bool log_level_from_string(const char* text, LogLevel* out);

void logf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void vlogf(LogLevel level, const char* fmt, va_list ap);

// One line per cause per period: a peer that can make a daemon log at will
// (a flood of garbage, a storm of connections) must not fill the disk. Each
// cause is a key (e.g. "undecodable" or "refused uid 1000"); the first
// `burst` lines of a period are written, the rest are counted, and the next
// line written for that key says how many were held back. At most max_keys
// causes are remembered (keys may come from peers); past that, new causes
// share one overflow key (still `burst` lines per period). Thread-safe.
class LogRateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit LogRateLimiter(std::chrono::milliseconds period = std::chrono::seconds(1), unsigned burst = 1,
                            std::size_t max_keys = 256);
    // True if a line for this key may be written now; then *suppressed (if
    // given) is the number held back since the last one written.
    bool allow(std::string_view key, uint64_t* suppressed = nullptr);
    // The same at a given time (tests drive the clock).
    bool allow_at(std::string_view key, Clock::time_point now, uint64_t* suppressed = nullptr);
    std::size_t keys() const;
    // " (N similar lines suppressed)", or "" for 0: what a written line gets appended.
    static std::string suppressed_note(uint64_t suppressed);

private:
    struct Entry {
        Clock::time_point window_start{};
        unsigned passed = 0;  // lines written in the current window
        uint64_t held_back = 0;
    };
    bool pass(Entry& e, Clock::time_point now, uint64_t* suppressed);
    std::chrono::milliseconds period_;
    unsigned burst_;
    std::size_t max_keys_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;
    Entry overflow_{};
};

// Writes the line through the limiter, adding "(N similar lines suppressed)".
void ratelimited_logf(LogRateLimiter& limiter, std::string_view key, LogLevel level, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

}  // namespace gsdk

// One line per key per second from this call site, with a count of the rest.
// The limiter lives at the call site: each call site is its own family of causes.
#define LOG_RATELIMITED(level, key, ...)                                               \
    do {                                                                               \
        if (::gsdk::log_enabled(level)) {                                              \
            static ::gsdk::LogRateLimiter gsdk_site_limiter_;                          \
            ::gsdk::ratelimited_logf(gsdk_site_limiter_, (key), (level), __VA_ARGS__); \
        }                                                                              \
    } while (0)

#define GSDK_LOG(level, ...)                                              \
    do {                                                                  \
        if (::gsdk::log_enabled(level)) ::gsdk::logf(level, __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(...) GSDK_LOG(::gsdk::LogLevel::Error, __VA_ARGS__)
#define LOG_WARN(...) GSDK_LOG(::gsdk::LogLevel::Warning, __VA_ARGS__)
#define LOG_NOTICE(...) GSDK_LOG(::gsdk::LogLevel::Notice, __VA_ARGS__)
#define LOG_INFO(...) GSDK_LOG(::gsdk::LogLevel::Info, __VA_ARGS__)
#define LOG_DEBUG(...) GSDK_LOG(::gsdk::LogLevel::Debug, __VA_ARGS__)
