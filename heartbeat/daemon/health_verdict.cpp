#include "health_verdict.h"

namespace gsdk::heartbeat {

int action_severity(hbwire::CorrectiveAction action) {
    switch (action) {
    case hbwire::CorrectiveAction::Stop:
        return 3;
    case hbwire::CorrectiveAction::Reboot:
        return 2;
    case hbwire::CorrectiveAction::Log:
        return 1;
    default:
        return 0;
    }
}

HealthVerdict merge_health(const std::vector<HealthFinding>& findings, hbwire::CorrectiveAction configured) {
    HealthVerdict verdict{true, configured, ""};
    for (const auto& f : findings) {
        if (f.healthy) continue;
        if (!verdict.log_msg.empty()) verdict.log_msg += "; ";
        verdict.log_msg += f.source + ": " + f.detail;
        if (verdict.healthy || action_severity(f.action) > action_severity(verdict.action)) verdict.action = f.action;
        verdict.healthy = false;
    }
    return verdict;
}

std::vector<HealthFinding> RepeatSuppressor::filter(const std::vector<HealthFinding>& findings, Clock::time_point now) {
    std::vector<HealthFinding> out;
    for (const auto& f : findings) {
        if (f.healthy) {
            out.push_back(f);
            continue;
        }
        auto key = std::make_tuple(f.source, static_cast<int>(f.action));
        auto it = last_reported_.find(key);
        if (it != last_reported_.end() && now - it->second < window_) continue;
        last_reported_[key] = now;
        out.push_back(f);
    }
    return out;
}

}  // namespace gsdk::heartbeat
