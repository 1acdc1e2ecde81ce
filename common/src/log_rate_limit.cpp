#include "gsdk/log_rate_limit.h"

namespace gsdk {

LogRateLimit::LogRateLimit(Millis period, unsigned burst, std::size_t max_keys)
    : period_(period), burst_(burst == 0 ? 1 : burst), max_keys_(max_keys == 0 ? 1 : max_keys) {}

bool LogRateLimit::allow(const std::string& key, uint64_t* suppressed) {
    return allow_at(key, Clock::now(), suppressed);
}

bool LogRateLimit::allow_at(const std::string& key, Clock::time_point now, uint64_t* suppressed) {
    if (suppressed) *suppressed = 0;
    auto it = causes_.find(key);
    if (it == causes_.end()) {
        // Keys come from peers (VM names, paths, error texts): the table is bounded.
        if (causes_.size() >= max_keys_) forget_old(now);
        if (causes_.size() >= max_keys_) causes_.clear();
        it = causes_.emplace(key, Cause{now, 0, 0}).first;
    }
    Cause& c = it->second;
    if (now - c.window_start >= period_) {
        c.window_start = now;
        c.passed = 0;
    }
    if (c.passed >= burst_) {
        ++c.suppressed;
        return false;
    }
    ++c.passed;
    if (suppressed) *suppressed = c.suppressed;
    c.suppressed = 0;
    return true;
}

void LogRateLimit::forget_old(Clock::time_point now) {
    // A cause quiet for a whole period with nothing held back has nothing to report.
    for (auto it = causes_.begin(); it != causes_.end();) {
        if (now - it->second.window_start >= period_ && it->second.suppressed == 0)
            it = causes_.erase(it);
        else
            ++it;
    }
}

std::string LogRateLimit::suppressed_note(uint64_t suppressed) {
    if (suppressed == 0) return {};
    return " (" + std::to_string(suppressed) + " similar line" + (suppressed == 1 ? "" : "s") + " suppressed)";
}

}  // namespace gsdk
