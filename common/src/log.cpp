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
    char message[1024];
    std::vsnprintf(message, sizeof message, fmt, ap);
    // One line per record: a cause quoted from the wire must not forge lines.
    for (char* p = message; *p; ++p)
        if (*p == '\n' || *p == '\r') *p = ' ';
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

void logf(LogLevel level, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlogf(level, fmt, ap);
    va_end(ap);
}

}  // namespace gsdk
