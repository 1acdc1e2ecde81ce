// One polling thread that owns a set of ports and moves frames between
// them: a pair (A<->B), a loopback (A->A, without copying), or an L2
// learning domain (MAC table, flood unknown and broadcast).
#pragma once

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "mac_table.hpp"
#include "port.hpp"
#include "tap_port.hpp"

namespace avpsw {

class ForwardingUnit {
public:
    enum class Kind { Pair, Loopback, Learning };

    // A learning domain may also hold TAP devices (`taps`).
    ForwardingUnit(Kind kind, std::vector<Port*> ports, bool busy_poll, std::vector<TapPort*> taps = {});
    ~ForwardingUnit();

    void start();
    void stop();
    // Returns once the thread has finished any pass that could have seen a
    // port as active; call after clearing Port::active.
    void wait_quiescent();
    // Ends a sleep at once (the control thread changed something).
    void wake();
    bool owns(const Port* p) const;
    uint64_t passes() const { return passes_.load(std::memory_order_acquire); }
    Kind kind() const { return kind_; }
    // TSC cycles since start, and those spent in passes that moved frames:
    // with --busy-poll the thread always uses a whole core, and this ratio
    // says how much of it the traffic actually needed.
    uint64_t cycles_total() const;
    uint64_t cycles_busy() const { return busy_cycles_.load(std::memory_order_relaxed); }
    uint32_t learned() const { return macs_.size(); }

private:
    void run();
    bool pass();
    // Source and destination indices: AVP ports first, then TAPs.
    void route_learning(uint32_t src, Frame& f);
    void deliver(uint32_t dst, const Frame& f);
    void flush_all();
    // Sleeps until a guest rings, the TAP has a frame or wake() is called
    // (kMaxSleepMs at most); false when some active guest does not ring,
    // so the unit must keep polling it.
    bool sleep_until_rung();

    Kind kind_;
    std::vector<Port*> ports_;
    std::vector<TapPort*> taps_;
    bool busy_poll_;
    MacTable macs_;
    std::atomic<bool> running_{false};
    std::atomic<uint64_t> passes_{0};
    std::atomic<uint64_t> start_tsc_{0}, busy_cycles_{0};
    int wake_fd_ = -1;  // eventfd: wake() and stop()
    std::vector<pollfd> pollfds_;
    std::vector<Port*> armed_;  // ports told we sleep
    bool rung_ = false;         // the last back-off slept until rung
    std::thread thread_;
};

}  // namespace avpsw
