#include "log_limit.hpp"

#include <cstdarg>
#include <cstdio>

namespace avpsw {

void LogLimit::log(gsdk::LogLevel level, const char* fmt, ...) {
    auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= interval_) {
        window_start_ = now;
        used_ = 0;
    }
    if (used_ >= burst_ || !gsdk::log_enabled(level)) {
        suppressed_++;
        suppressed_total_++;
        return;
    }
    used_++;
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (suppressed_) {
        gsdk::logf(level, "%s (%llu similar lines suppressed)", line, static_cast<unsigned long long>(suppressed_));
        suppressed_ = 0;
    } else {
        gsdk::logf(level, "%s", line);
    }
}

}  // namespace avpsw
