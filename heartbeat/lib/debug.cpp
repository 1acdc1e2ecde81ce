// The legacy "common API" (libguest_common_api): guest_api_error_str and the
// guest_api_debug logging, which the heartbeat library uses too. Each line is
// written with one write() so lines from threads never interleave.
#include "guest_api_debug.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

namespace {

constexpr int kLevelUnset = -1;
std::atomic<int> g_level{kLevelUnset};
std::mutex g_name_mu;
std::string g_process_name;
bool g_syslog_open = false;

constexpr const char* kLevelNames[] = {"error", "info", "debug", "verbose"};

int current_level() {
    int level = g_level.load(std::memory_order_relaxed);
    if (level != kLevelUnset) return level;
    // INFO, as the original; an operator may change it without rebuilding the VNF.
    level = GUEST_API_DEBUG_LOG_LEVEL_INFO;
    if (const char* env = std::getenv("GUEST_API_DEBUG_LOG_LEVEL")) {
        for (int i = 0; i < 4; ++i)
            if (std::strcmp(env, kLevelNames[i]) == 0) level = i;
    }
    int expected = kLevelUnset;
    g_level.compare_exchange_strong(expected, level);
    return g_level.load();
}

// Syslog, as the original, unless GUEST_API_DEBUG_LOG=stderr asks otherwise.
bool to_stderr() {
    const char* env = std::getenv("GUEST_API_DEBUG_LOG");
    return env && std::strcmp(env, "stderr") == 0;
}

std::string process_name() {
    std::lock_guard lock(g_name_mu);
    if (g_process_name.empty()) return program_invocation_short_name;
    return g_process_name;
}

void emit(int syslog_priority, const char* level_tag, const char* where, const char* format, va_list ap) {
    char text[1024];
    std::vsnprintf(text, sizeof text, format, ap);
    if (!to_stderr()) {
        if (where)
            ::syslog(syslog_priority, "%s%s: %s", level_tag, where, text);
        else
            ::syslog(syslog_priority, "%s", text);
        return;
    }
    timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm local;
    ::localtime_r(&now.tv_sec, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &local);
    std::string line = std::string(stamp) + "." + std::to_string(now.tv_nsec / 1000000 + 1000).substr(1) + " " +
                       process_name() + "[" + std::to_string(::getpid()) + "]: ";
    if (where) line += std::string(level_tag) + where + ": ";
    line += text;
    line += '\n';
    ssize_t rc = ::write(STDERR_FILENO, line.data(), line.size());
    (void)rc;
}

}  // namespace

extern "C" {

const char* guest_api_error_str(GuestApiErrorT error) {
    static constexpr const char* kErrors[] = {"okay", "failed", "interrupted", "try-again"};
    int v;
    std::memcpy(&v, &error, sizeof v);  // a C caller may pass any int
    return v >= 0 && v < 4 ? kErrors[v] : "???";
}

GuestApiErrorT guest_api_debug_initialize(char process_name[]) {
    std::lock_guard lock(g_name_mu);
    g_process_name = process_name && *process_name ? process_name : program_invocation_short_name;
    ::openlog(g_process_name.c_str(), LOG_PID, LOG_USER);
    g_syslog_open = true;
    return GUEST_API_OKAY;
}

GuestApiErrorT guest_api_debug_finalize(void) {
    std::lock_guard lock(g_name_mu);
    if (g_syslog_open) ::closelog();
    g_syslog_open = false;
    return GUEST_API_OKAY;
}

void guest_api_debug_set_log_level(GuestApiDebugLogLevelT level) {
    int l = level;
    if (l < GUEST_API_DEBUG_LOG_LEVEL_ERROR) l = GUEST_API_DEBUG_LOG_LEVEL_ERROR;
    if (l > GUEST_API_DEBUG_LOG_LEVEL_VERBOSE) l = GUEST_API_DEBUG_LOG_LEVEL_VERBOSE;
    g_level.store(l);
}

bool guest_api_debug_want_log(GuestApiDebugLogLevelT level) { return static_cast<int>(level) <= current_level(); }

void guest_api_debug_log(const char* format, ...) {
    if (!format) return;
    va_list ap;
    va_start(ap, format);
    emit(LOG_INFO, "", nullptr, format, ap);
    va_end(ap);
}

void guest_api_debug_log_at(GuestApiDebugLogLevelT level, const char* file, int line, const char* format, ...) {
    if (!format) return;
    static const int kPriorities[] = {LOG_ERR, LOG_INFO, LOG_DEBUG, LOG_DEBUG};
    static const char* const kTags[] = {"ERROR ", "INFO ", "DEBUG ", "VERBOSE "};
    int l = level >= GUEST_API_DEBUG_LOG_LEVEL_ERROR && level <= GUEST_API_DEBUG_LOG_LEVEL_VERBOSE ? level : 0;
    const char* base = file ? std::strrchr(file, '/') : nullptr;
    std::string where = std::string(base ? base + 1 : (file ? file : "?")) + "(" + std::to_string(line) + ")";
    va_list ap;
    va_start(ap, format);
    emit(kPriorities[l], kTags[l], where.c_str(), format, ap);
    va_end(ap);
}

const char* guest_api_debug_log_level_str(GuestApiDebugLogLevelT level) {
    int l = level;
    return l >= 0 && l < 4 ? kLevelNames[l] : "???";
}

}  // extern "C"
