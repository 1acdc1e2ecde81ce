#include "event_log.h"

#include <algorithm>
#include <chrono>

#include "gsdk/json_line.h"

namespace vmhost {

namespace {
constexpr std::size_t kMaxDetail = 512;  // keeps a page of events inside one control datagram
}

uint64_t EventLog::record(const std::string& vm, const std::string& kind, const std::string& detail,
                          gsdk::LogLevel level) {
    LoggedEvent e;
    e.sequence = next_sequence_++;
    e.time_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    e.vm = vm;
    e.kind = kind;
    // Details quote guest text: one line, bounded.
    e.detail = gsdk::one_line(detail, kMaxDetail);
    GSDK_LOG(level, "%s: %s: %s", vm.c_str(), kind.c_str(), e.detail.c_str());
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
