#include "event_log.h"

#include <algorithm>
#include <chrono>

#include "gsdk/json_line.h"

namespace vmhost {

uint64_t EventLog::record(const std::string& vm, const std::string& kind, const std::string& detail,
                          gsdk::LogLevel level, EventOrigin origin) {
    std::string note;
    if (origin == EventOrigin::Guest) {
        std::string cause = vm + '\0' + kind;
        uint64_t held = 0;
        if (!guest_events_.allow(cause, &held)) return 0;
        if (held > 0) note = " (" + std::to_string(held) + " similar events not kept)";
    }
    LoggedEvent e;
    e.sequence = next_sequence_++;
    e.time_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    e.vm = vm;
    e.kind = kind;
    // Details quote guest text: one line, bounded (a page of events fits one control datagram).
    e.detail = gsdk::one_line(detail, kMaxEventDetail) + note;
    if (origin == EventOrigin::Host) {
        GSDK_LOG(level, "%s: %s: %s", vm.c_str(), kind.c_str(), e.detail.c_str());
    } else if (gsdk::log_enabled(level)) {
        uint64_t held = 0;
        if (guest_lines_.allow(vm + '\0' + kind, &held))
            gsdk::logf(level, "%s: %s: %s%s", vm.c_str(), kind.c_str(), e.detail.c_str(),
                       gsdk::LogRateLimiter::suppressed_note(held).c_str());
    }
    auto& ring = rings_[vm];
    ring.push_back(std::move(e));
    while (ring.size() > capacity_) ring.pop_front();
    return next_sequence_ - 1;
}

std::vector<const LoggedEvent*> EventLog::query(const std::string& vm, uint64_t since, std::size_t limit,
                                                std::size_t* skipped) const {
    std::vector<const LoggedEvent*> found;
    auto collect = [&](const std::deque<LoggedEvent>& ring) {
        // Rings are in sequence order: skip the old part quickly.
        auto first = std::upper_bound(ring.begin(), ring.end(), since,
                                      [](uint64_t s, const LoggedEvent& e) { return s < e.sequence; });
        for (auto it = first; it != ring.end(); ++it) found.push_back(&*it);
    };
    if (!vm.empty()) {
        if (auto it = rings_.find(vm); it != rings_.end()) collect(it->second);
    } else {
        for (const auto& [name, ring] : rings_) collect(ring);
        std::sort(found.begin(), found.end(),
                  [](const LoggedEvent* a, const LoggedEvent* b) { return a->sequence < b->sequence; });
    }
    *skipped = 0;
    if (found.size() > limit) {
        *skipped = found.size() - limit;
        found.erase(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(*skipped));
    }
    return found;
}

}  // namespace vmhost
