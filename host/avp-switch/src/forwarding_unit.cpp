#include "forwarding_unit.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <x86intrin.h>

namespace avpsw {

namespace {
// A guest that promised to ring and does not (or a lost wake-up) waits this
// long at most; and a sleeping unit costs no more than this many wake-ups.
constexpr int kMaxSleepMs = 10;
// Empty passes spun before backing off: a frame that comes within them is
// taken without a wake-up. Spinning costs the guest's vCPUs a share of the
// host's cores, so a unit whose guests ring spins briefly: during a TCP
// stream between two TCG guests' ports (bench/avp_kmod) the switch took
// about 30% of a core spinning 2000 passes per burst, 8% spinning 50.
constexpr uint32_t kSpinPasses = 2000;
constexpr uint32_t kSpinBeforeSleep = 64;
}  // namespace

ForwardingUnit::ForwardingUnit(Kind kind, std::vector<Port*> ports, bool busy_poll, std::vector<TapPort*> taps)
    : kind_(kind), ports_(std::move(ports)), taps_(std::move(taps)), busy_poll_(busy_poll) {
    // Without it (EMFILE) the unit sleeps in short timed steps as before.
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pollfds_.reserve(1 + ports_.size() + taps_.size());
    armed_.reserve(ports_.size());
}

ForwardingUnit::~ForwardingUnit() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ForwardingUnit::wake() {
    if (wake_fd_ >= 0) (void)eventfd_write(wake_fd_, 1);
}

void ForwardingUnit::start() {
    running_.store(true);
    thread_ = std::thread([this] { run(); });
}

void ForwardingUnit::stop() {
    running_.store(false);
    wake();
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
    while (running_.load() && passes_.load(std::memory_order_acquire) < seen + 2) {
        wake();
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
}

uint64_t ForwardingUnit::cycles_total() const {
    uint64_t t0 = start_tsc_.load(std::memory_order_relaxed);
    return t0 ? __rdtsc() - t0 : 0;
}

void ForwardingUnit::run() {
    uint32_t idle = 0;
    // An idle pass sleeps 20-200 us; with the default 50 us timer slack a
    // 20 us sleep lasts about 70, which a guest waiting for its frames (a
    // TCP ACK, a ping) pays on every hop.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
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
        // --busy-poll trades that for latency. Guests that ring let the
        // unit sleep until they do; the others are polled in timed steps.
        if (++idle < (rung_ ? kSpinBeforeSleep : kSpinPasses)) {
            __builtin_ia32_pause();
        } else if ((rung_ = sleep_until_rung())) {
            idle = 0;
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(idle < 20000 ? 20 : 200));
        }
    }
}

bool ForwardingUnit::sleep_until_rung() {
    if (wake_fd_ < 0) return false;
    std::vector<pollfd>& fds = pollfds_;  // capacity reserved: no allocation here
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    for (Port* p : ports_) {
        if (!p->active.load(std::memory_order_acquire)) continue;  // attach wakes us
        if (!p->guest_rings()) return false;
        fds.push_back({p->wake_fd(), POLLIN, 0});
    }
    for (TapPort* t : taps_) fds.push_back({t->fd(), POLLIN, 0});
    // Everything returned is lent out again first: a guest waiting for
    // buffers has nothing to ring about. Then say we sleep and look once
    // more; the guest stores its index and then reads host_asleep, we store
    // host_asleep and then read its index: one of us sees the other.
    armed_.clear();
    for (Port* p : ports_)
        if (p->active.load(std::memory_order_acquire)) {
            p->housekeeping(true);
            p->set_host_asleep(true);
            armed_.push_back(p);
        }
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!pass()) (void)::poll(fds.data(), fds.size(), kMaxSleepMs);
    for (Port* p : armed_) {
        p->set_host_asleep(false);
        p->take_wakeup();
    }
    eventfd_t n;
    (void)eventfd_read(wake_fd_, &n);  // wake() calls since the last sleep
    return true;
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
            flush_all();
            break;
        }
    }
    for (uint32_t t = 0; t < taps_.size(); t++) {
        uint32_t n = taps_[t]->receive_burst(frames, kBurst);
        if (n == 0) continue;
        worked = true;
        for (uint32_t i = 0; i < n; i++) route_learning(static_cast<uint32_t>(ports_.size()) + t, frames[i]);
        flush_all();
    }
    return worked;
}

void ForwardingUnit::flush_all() {
    for (Port* p : ports_) p->flush();
}

void ForwardingUnit::deliver(uint32_t dst, const Frame& f) {
    if (dst < ports_.size())
        ports_[dst]->stage(f);
    else
        taps_[dst - ports_.size()]->stage(f);
}

void ForwardingUnit::route_learning(uint32_t src, Frame& f) {
    const uint8_t* dmac = f.dst_mac();
    const uint8_t* smac = f.src_mac();
    if (!(smac[0] & 1)) macs_.learn(smac, src);
    PortCounters& from = src < ports_.size() ? ports_[src]->counters : taps_[src - ports_.size()]->counters;
    int out = (dmac[0] & 1) ? MacTable::kNone : macs_.lookup(dmac);
    if (out != MacTable::kNone) {
        if (static_cast<uint32_t>(out) == src)
            bump(from.rx_drops);  // already on its segment
        else
            deliver(static_cast<uint32_t>(out), f);
        return;
    }
    uint32_t all = static_cast<uint32_t>(ports_.size() + taps_.size());
    bool any = false;
    for (uint32_t d = 0; d < all; d++) {
        if (d == src) continue;
        deliver(d, f);
        any = true;
    }
    if (!any) bump(from.rx_drops);
}

}  // namespace avpsw
