#include "departed_failures.h"

namespace gsdk::heartbeat {

void DepartedFailures::erase_from_time_index(const std::string& name, Clock::time_point at) {
    auto [first, last] = by_time_.equal_range(at);
    for (auto it = first; it != last; ++it) {
        if (it->second == name) {
            by_time_.erase(it);
            return;
        }
    }
}

void DepartedFailures::add(HealthFinding failure, Clock::time_point now) {
    forget(failure.source);
    while (by_name_.size() >= capacity_ && !by_time_.empty()) {
        auto oldest = by_time_.begin();
        by_name_.erase(oldest->second);
        by_time_.erase(oldest);
    }
    std::string name = failure.source;
    by_time_.emplace(now, name);
    by_name_.emplace(std::move(name), Entry{std::move(failure), now});
}

bool DepartedFailures::forget(const std::string& name) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return false;
    erase_from_time_index(name, it->second.at);
    by_name_.erase(it);
    return true;
}

bool DepartedFailures::expire(Clock::time_point now) {
    bool any = false;
    while (!by_time_.empty() && now - by_time_.begin()->first >= retention_) {
        by_name_.erase(by_time_.begin()->second);
        by_time_.erase(by_time_.begin());
        any = true;
    }
    return any;
}

std::vector<HealthFinding> DepartedFailures::findings() const {
    std::vector<HealthFinding> out;
    out.reserve(by_time_.size());
    for (const auto& [at, name] : by_time_) out.push_back(by_name_.at(name).finding);
    return out;
}

}  // namespace gsdk::heartbeat
