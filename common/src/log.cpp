#include "gsdk/log.h"

#include <sys/time.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

namespace gsdk {
namespace {

std::string g_program = "gsdk";
LogLevel g_threshold = LogLevel::Info;
bool g_journal = false;
std::mutex g_mutex;

const char* level_tag(LogLevel level) {
    switch (level) {
    case LogLevel::Error:
        return "error";
    case LogLevel::Warning:
        return "warning";
    case LogLevel::Notice:
        return "notice";
    case LogLevel::Info:
        return "info";
    case LogLevel::Debug:
        return "debug";
    }
    return "?";
}

}  // namespace

void log_init(const char* program_name, LogLevel threshold) {
    std::lock_guard lock(g_mutex);
    g_program = program_name;
    g_threshold = threshold;
    g_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}

void log_set_threshold(LogLevel threshold) { g_threshold = threshold; }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= static_cast<int>(g_threshold); }

bool log_level_from_string(const char* text, LogLevel* out) {
    static const struct {
        const char* name;
        LogLevel level;
    } names[] = {
        {"error", LogLevel::Error}, {"warning", LogLevel::Warning}, {"notice", LogLevel::Notice},
        {"info", LogLevel::Info},   {"debug", LogLevel::Debug},
    };
    for (const auto& n : names) {
        if (std::strcmp(n.name, text) == 0) {
            *out = n.level;
            return true;
        }
    }
    return false;
}

void vlogf(LogLevel level, const char* fmt, va_list ap) {
    char raw[1024];
    std::vsnprintf(raw, sizeof raw, fmt, ap);
    // One line per record: a cause quoted from the wire must not forge lines,
    // and its other control bytes (terminal escapes) are shown, not obeyed.
    char message[sizeof raw * 4];
    std::size_t used = 0;
    for (const char* p = raw; *p; ++p) {
        auto c = static_cast<unsigned char>(*p);
        if (c == '\n' || c == '\r')
            message[used++] = ' ';
        else if (c < 0x20 && c != '\t')
            used += static_cast<std::size_t>(std::snprintf(message + used, 5, "\\x%02x", c));
        else if (c == 0x7f)
            used += static_cast<std::size_t>(std::snprintf(message + used, 5, "\\x7f"));
        else
            message[used++] = static_cast<char>(c);
    }
    message[used] = '\0';
    std::lock_guard lock(g_mutex);
    if (g_journal) {
        std::fprintf(stderr, "<%d>%s\n", static_cast<int>(level), message);
    } else {
        timeval tv;
        gettimeofday(&tv, nullptr);
        tm local;
        localtime_r(&tv.tv_sec, &local);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
        std::fprintf(stderr, "%s.%03ld %s[%s]: %s\n", stamp, static_cast<long>(tv.tv_usec / 1000), g_program.c_str(),
                     level_tag(level), message);
    }
    std::fflush(stderr);
}

LogRateLimiter::LogRateLimiter(std::chrono::milliseconds period, unsigned burst, std::size_t max_keys)
    : period_(period), burst_(burst < 1 ? 1 : burst), max_keys_(max_keys < 1 ? 1 : max_keys) {}

bool LogRateLimiter::allow(std::string_view key, uint64_t* suppressed) {
    return allow_at(key, Clock::now(), suppressed);
}

bool LogRateLimiter::allow_at(std::string_view key, Clock::time_point now, uint64_t* suppressed) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(std::string(key));
    if (it == entries_.end()) {
        if (entries_.size() >= max_keys_) {
            // Forget causes quiet for a whole period with nothing held back;
            // if all are busy, this one shares the overflow key.
            std::erase_if(entries_, [&](const auto& e) {
                return now - e.second.window_start >= period_ && e.second.held_back == 0;
            });
            if (entries_.size() >= max_keys_) return pass(overflow_, now, suppressed);
        }
        it = entries_.emplace(std::string(key), Entry{now, 0, 0}).first;
    }
    return pass(it->second, now, suppressed);
}

bool LogRateLimiter::pass(Entry& e, Clock::time_point now, uint64_t* suppressed) {
    if (now - e.window_start >= period_ || e.window_start == Clock::time_point{}) {
        e.window_start = now;
        e.passed = 0;
    }
    if (e.passed >= burst_) {
        ++e.held_back;
        return false;
    }
    ++e.passed;
    if (suppressed) *suppressed = e.held_back;
    e.held_back = 0;
    return true;
}

std::size_t LogRateLimiter::keys() const {
    std::lock_guard lock(mu_);
    return entries_.size();
}

std::string LogRateLimiter::suppressed_note(uint64_t suppressed) {
    if (suppressed == 0) return {};
    return " (" + std::to_string(suppressed) + " similar line" + (suppressed == 1 ? "" : "s") + " suppressed)";
}

void ratelimited_logf(LogRateLimiter& limiter, std::string_view key, LogLevel level, const char* fmt, ...) {
    uint64_t suppressed = 0;
    if (!limiter.allow(key, &suppressed)) return;
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    logf(level, "%s%s", message, LogRateLimiter::suppressed_note(suppressed).c_str());
}

void logf(LogLevel level, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlogf(level, fmt, ap);
    va_end(ap);
}

}  // namespace gsdk
