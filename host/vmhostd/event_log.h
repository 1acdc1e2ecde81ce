// The per-VM event history that vmhostctl shows: a bounded ring per VM with
// one sequence counter across all VMs, so a client can poll "what is new
// since N" for one VM or for all of them. Every event is also logged.
// Events a guest causes (its messages, its garbage) are rate-limited per VM
// and kind: at most one log line per second, and at most kGuestEventBurst
// kept per second, so a flooding guest cannot push the host's own history
// (actions, losses) out of the ring; what is held back is counted in the
// next event that passes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "gsdk/log.h"

namespace vmhost {

struct LoggedEvent {
    uint64_t sequence = 0;
    int64_t time_ms = 0;  // wall clock
    std::string vm;
    std::string kind;
    std::string detail;
};

enum class EventOrigin { Host, Guest };

inline constexpr unsigned kGuestEventBurst = 20;
inline constexpr std::size_t kMaxEventDetail = 512;

class EventLog {
public:
    explicit EventLog(std::size_t per_vm_capacity) : capacity_(per_vm_capacity) {}

    // Returns the event's sequence, or 0 if a guest's event was held back.
    uint64_t record(const std::string& vm, const std::string& kind, const std::string& detail,
                    gsdk::LogLevel level = gsdk::LogLevel::Info, EventOrigin origin = EventOrigin::Host);

    // Events with sequence > since (of one VM, or all if vm is empty), oldest
    // first; when more than `limit` match, the newest `limit` are returned and
    // *skipped says how many were left out.
    std::vector<const LoggedEvent*> query(const std::string& vm, uint64_t since, std::size_t limit,
                                          std::size_t* skipped) const;
    uint64_t last_sequence() const { return next_sequence_ - 1; }

private:
    std::size_t capacity_;
    gsdk::LogRateLimiter guest_lines_{std::chrono::milliseconds(1000), 1, 4096};
    gsdk::LogRateLimiter guest_events_{std::chrono::milliseconds(1000), kGuestEventBurst, 4096};
    uint64_t next_sequence_ = 1;
    std::map<std::string, std::deque<LoggedEvent>> rings_;
};

}  // namespace vmhost
