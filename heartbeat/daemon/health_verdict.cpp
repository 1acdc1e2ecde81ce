#include "health_verdict.h"

#include <algorithm>

namespace gsdk::heartbeat {

namespace {
constexpr std::size_t kDetailMax = 200;  // one source cannot fill the message alone
}

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
    std::vector<const HealthFinding*> failing;
    for (const auto& f : findings) {
        if (f.healthy) continue;
        failing.push_back(&f);
        if (verdict.healthy || action_severity(f.action) > action_severity(verdict.action)) verdict.action = f.action;
        verdict.healthy = false;
    }
    std::stable_sort(failing.begin(), failing.end(), [](const HealthFinding* a, const HealthFinding* b) {
        return action_severity(a->action) > action_severity(b->action);
    });
    for (std::size_t i = 0; i < failing.size(); ++i) {
        std::string entry = failing[i]->source + ": " + failing[i]->detail.substr(0, kDetailMax);
        std::string more = "; " + std::to_string(failing.size() - i) + " more applications failing";
        std::size_t after = verdict.log_msg.size() + (verdict.log_msg.empty() ? 0 : 2) + entry.size();
        // Room for this entry and, unless it is the last, the summary after it.
        if (after + (i + 1 < failing.size() ? more.size() + 8 : 0) > kLogMsgBudget) {
            verdict.log_msg += verdict.log_msg.empty() ? more.substr(2) : more;
            break;
        }
        if (!verdict.log_msg.empty()) verdict.log_msg += "; ";
        verdict.log_msg += entry;
    }
    return verdict;
}

HealthVerdict RepeatSuppressor::apply(HealthVerdict merged, const std::vector<HealthFinding>& findings,
                                      Clock::time_point now) {
    if (merged.healthy) return merged;
    prune(now);
    int top = action_severity(merged.action);
    bool fresh = false;
    for (const auto& f : findings) {
        if (f.healthy || f.action != merged.action) continue;
        auto it = last_reported_.find({f.source, static_cast<int>(f.action)});
        if (it == last_reported_.end() || now - it->second >= window_) fresh = true;
    }
    if (!fresh || top == 0) {
        // Reported already (or nothing for the host to do): still unhealthy.
        merged.action = hbwire::CorrectiveAction::None;
        return merged;
    }
    for (const auto& f : findings) {
        if (f.healthy || action_severity(f.action) == 0) continue;
        // Everything the host's action covers counts as reported with it.
        last_reported_[{f.source, static_cast<int>(f.action)}] = now;
    }
    while (last_reported_.size() > max_entries_) {
        auto oldest = std::min_element(last_reported_.begin(), last_reported_.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
        last_reported_.erase(oldest);
    }
    return merged;
}

void RepeatSuppressor::prune(Clock::time_point now) {
    if (now - last_prune_ < std::chrono::seconds(1)) return;
    last_prune_ = now;
    std::erase_if(last_reported_, [&](const auto& e) { return now - e.second >= window_; });
}

}  // namespace gsdk::heartbeat
