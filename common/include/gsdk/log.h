// Logging for daemons and host tools: one line per event, naming the cause.
// Under systemd (JOURNAL_STREAM set) lines carry sd-daemon priority prefixes so
// journald records the level; otherwise they get a timestamp and program name.
#pragma once

#include <cstdarg>

namespace gsdk {

enum class LogLevel { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

void log_init(const char* program_name, LogLevel threshold);
void log_set_threshold(LogLevel threshold);
bool log_enabled(LogLevel level);
// Parses "error", "warning", "notice", "info", "debug"; false if unknown.
bool log_level_from_string(const char* text, LogLevel* out);

void logf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void vlogf(LogLevel level, const char* fmt, va_list ap);

}  // namespace gsdk

#define GSDK_LOG(level, ...)                                              \
    do {                                                                  \
        if (::gsdk::log_enabled(level)) ::gsdk::logf(level, __VA_ARGS__); \
    } while (0)
#define LOG_ERROR(...) GSDK_LOG(::gsdk::LogLevel::Error, __VA_ARGS__)
#define LOG_WARN(...) GSDK_LOG(::gsdk::LogLevel::Warning, __VA_ARGS__)
#define LOG_NOTICE(...) GSDK_LOG(::gsdk::LogLevel::Notice, __VA_ARGS__)
#define LOG_INFO(...) GSDK_LOG(::gsdk::LogLevel::Info, __VA_ARGS__)
#define LOG_DEBUG(...) GSDK_LOG(::gsdk::LogLevel::Debug, __VA_ARGS__)
