// The answer slot: a page of shared memory through which libguest_heartbeat
// answers "still healthy" without a message, so the daemon pays no receive
// and no wake-up for the answer that makes up nearly all of its traffic.
//
// The daemon creates it per registration (a sealed memfd: the application
// cannot shrink it under the daemon's read-only mapping) and passes the
// descriptor with the RegisterResult when the library asked for one in its
// Register. The library stores the challenge id it answered healthy, with its
// CLOCK_MONOTONIC time; every other answer (unhealthy, a different corrective
// action, the first healthy one after those) still goes as a HealthReport,
// so a change of health reaches the daemon at once. The daemon looks at the
// slot when the application is next due a challenge and before calling it
// hung. Values are the application's claim about itself only, and are
// checked like a HealthReport (an id never sent proves nothing).
#pragma once

#include <atomic>
#include <cstdint>

namespace gsdk::heartbeat::ipc {

struct AnswerSlot {
    std::atomic<uint64_t> challenge_id;   // newest challenge answered healthy; 0 before the first
    std::atomic<int64_t> answered_at_ns;  // CLOCK_MONOTONIC of that answer (or a later one)
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the slot is shared between processes");

inline constexpr std::size_t kAnswerSlotBytes = 4096;

struct SlotAnswer {
    uint64_t challenge_id;
    int64_t answered_at_ns;
};

// Library side: the time first, then the id that publishes it.
inline void publish_healthy_answer(AnswerSlot& slot, uint64_t challenge_id, int64_t now_ns) {
    slot.answered_at_ns.store(now_ns, std::memory_order_relaxed);
    slot.challenge_id.store(challenge_id, std::memory_order_release);
}

// Daemon side: a time read after the id belongs to that answer or a newer one.
inline SlotAnswer read_answer(const AnswerSlot& slot) {
    uint64_t id = slot.challenge_id.load(std::memory_order_acquire);
    return {id, slot.answered_at_ns.load(std::memory_order_relaxed)};
}

}  // namespace gsdk::heartbeat::ipc
