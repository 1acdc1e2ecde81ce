#include "forwarding_unit.hpp"

#include <chrono>
#include <cstring>

#include <x86intrin.h>

namespace avpsw {

ForwardingUnit::ForwardingUnit(Kind kind, std::vector<Port*> ports, bool busy_poll)
    : kind_(kind), ports_(std::move(ports)), busy_poll_(busy_poll) {}

ForwardingUnit::~ForwardingUnit() { stop(); }

void ForwardingUnit::start() {
    running_.store(true);
    thread_ = std::thread([this] { run(); });
}

void ForwardingUnit::stop() {
    running_.store(false);
    if (thread_.joinable()) thread_.join();
}

bool ForwardingUnit::owns(const Port* p) const {
    for (auto* q : ports_)
        if (q == p) return true;
    return false;
}

void ForwardingUnit::wait_quiescent() {
    if (!thread_.joinable()) return;
    uint64_t seen = passes_.load(std::memory_order_acquire);
    while (running_.load() && passes_.load(std::memory_order_acquire) < seen + 2)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
}

uint64_t ForwardingUnit::cycles_total() const {
    uint64_t t0 = start_tsc_.load(std::memory_order_relaxed);
    return t0 ? __rdtsc() - t0 : 0;
}

void ForwardingUnit::run() {
    uint32_t idle = 0;
    start_tsc_.store(__rdtsc(), std::memory_order_relaxed);
    while (running_.load(std::memory_order_relaxed)) {
        uint64_t t = __rdtsc();
        bool worked = pass();
        passes_.store(passes_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        if (worked) {
            busy_cycles_.store(busy_cycles_.load(std::memory_order_relaxed) + (__rdtsc() - t),
                               std::memory_order_relaxed);
            idle = 0;
            continue;
        }
        if (busy_poll_) {
            // Polling the guest's index lines flat out steals them from the
            // guest that is writing them; a pause per empty pass is cheaper
            // for both sides than the lost cache-line ownership.
            for (int i = 0; i < 8; i++) __builtin_ia32_pause();
            continue;
        }
        // Back off when idle so a quiet switch does not burn a shared core;
        // --busy-poll trades that for latency.
        if (++idle < 2000)
            __builtin_ia32_pause();
        else
            std::this_thread::sleep_for(std::chrono::microseconds(idle < 20000 ? 20 : 200));
    }
}

bool ForwardingUnit::pass() {
    bool worked = false;
    for (Port* p : ports_)
        if (p->active.load(std::memory_order_acquire)) p->housekeeping();

    Frame frames[kBurst];
    for (uint32_t s = 0; s < ports_.size(); s++) {
        Port* src = ports_[s];
        if (!src->active.load(std::memory_order_acquire)) continue;
        uint32_t n = src->receive_burst(frames, kBurst);
        if (n == 0) continue;
        worked = true;
        switch (kind_) {
        case Kind::Loopback:
            for (uint32_t i = 0; i < n; i++) src->stage_in_place(frames[i]);
            src->flush();
            break;
        case Kind::Pair: {
            Port* dst = ports_[s ^ 1];
            for (uint32_t i = 0; i < n; i++) {
                dst->stage(frames[i]);
                src->release(frames[i]);
            }
            dst->flush();
            break;
        }
        case Kind::Learning:
            for (uint32_t i = 0; i < n; i++) {
                route_learning(s, frames[i]);
                src->release(frames[i]);
            }
            for (Port* p : ports_) p->flush();
            break;
        }
    }
    return worked;
}

void ForwardingUnit::route_learning(uint32_t src, Frame& f) {
    const uint8_t* dmac = f.dst_mac();
    const uint8_t* smac = f.src_mac();
    if (!(smac[0] & 1)) macs_.learn(smac, src);
    int out = (dmac[0] & 1) ? MacTable::kNone : macs_.lookup(dmac);
    if (out != MacTable::kNone) {
        if (static_cast<uint32_t>(out) == src)
            bump(ports_[src]->counters.rx_drops);  // already on its segment
        else
            ports_[out]->stage(f);
        return;
    }
    bool any = false;
    for (uint32_t d = 0; d < ports_.size(); d++) {
        if (d == src) continue;
        ports_[d]->stage(f);
        any = true;
    }
    if (!any) bump(ports_[src]->counters.rx_drops);
}

}  // namespace avpsw
