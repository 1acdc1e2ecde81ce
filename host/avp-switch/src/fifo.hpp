// Host side of the AVP single-producer/single-consumer FIFOs.
// The guest is the other end and is not trusted: indices it publishes are
// bounds-checked, and slot values are validated by the caller.
#pragma once

#include <avp/avp_device.h>

#include <atomic>
#include <cstdint>

namespace avpsw {

// The two indices share a cache line with the first slots (legacy layout),
// and the guest's core writes it. Each side therefore caches the other's
// index and re-reads it only when the cached view cannot satisfy a request,
// and publishes its own index only when it moved: an idle pass touches
// nothing it does not have to.
class Fifo {
public:
    Fifo() = default;
    Fifo(avp_fifo* f, uint32_t len) : f_(f), mask_(len - 1) {}

    // Resets indices; only while the guest is not using the ring.
    void reset(uint32_t len) {
        mask_ = len - 1;
        f_->len = len;
        f_->elem_size = 8;
        write_ref().store(0, std::memory_order_relaxed);
        read_ref().store(0, std::memory_order_release);
        mine_ = 0;
        peer_ = 0;
    }

    bool valid() const { return f_ != nullptr; }

    // Producer side (host owns `write`): returns how many were put.
    uint32_t put(const uint64_t* v, uint32_t n) {
        uint32_t room = free_space(n);
        if (n > room) n = room;
        if (n == 0) return 0;
        for (uint32_t i = 0; i < n; i++) f_->slot[(mine_ + i) & mask_] = v[i];
        mine_ = (mine_ + n) & mask_;
        write_ref().store(mine_, std::memory_order_release);
        return n;
    }

    // Consumer side (host owns `read`): returns how many were taken, or 0
    // when the guest published a write index outside the ring.
    uint32_t get(uint64_t* v, uint32_t n) {
        uint32_t avail = available(n);
        if (n > avail) n = avail;
        if (n == 0) return 0;
        for (uint32_t i = 0; i < n; i++) v[i] = f_->slot[(mine_ + i) & mask_];
        mine_ = (mine_ + n) & mask_;
        read_ref().store(mine_, std::memory_order_release);
        return n;
    }

    // Producer side: room, re-reading the guest's read index only when the
    // cached one leaves less than `want`. A corrupt index reads as no room.
    uint32_t free_space(uint32_t want = 1) {
        uint32_t room = (peer_ - mine_ - 1) & mask_;
        if (room >= want) return room;
        uint32_t r = read_ref().load(std::memory_order_acquire);
        if (r > mask_) return 0;  // guest corrupted the read index: refuse to produce
        peer_ = r;
        return (peer_ - mine_ - 1) & mask_;
    }

    // Consumer side: entries waiting, re-reading the guest's write index only
    // when the cached one shows fewer than `want`.
    uint32_t available(uint32_t want = 1) {
        uint32_t avail = (peer_ - mine_) & mask_;
        if (avail >= want) return avail;
        uint32_t w = write_ref().load(std::memory_order_acquire);
        if (w > mask_) {
            bad_index_ = true;
            return 0;
        }
        peer_ = w;
        return (peer_ - mine_) & mask_;
    }

    // What the cached view shows, touching no shared line.
    uint32_t cached_free_space() const { return (peer_ - mine_ - 1) & mask_; }

    uint32_t write_index() const { return write_ref().load(std::memory_order_relaxed); }
    // Raw index pokes used only by fault injection, and their undoing.
    void force_write_index(uint32_t w) { write_ref().store(w, std::memory_order_release); }
    void force_read_index(uint32_t r) { read_ref().store(r, std::memory_order_release); }
    void republish_write() { write_ref().store(mine_, std::memory_order_release); }
    void republish_read() { read_ref().store(mine_, std::memory_order_release); }

    bool take_bad_index() {
        bool b = bad_index_;
        bad_index_ = false;
        return b;
    }

private:
    std::atomic_ref<uint32_t> write_ref() const { return std::atomic_ref<uint32_t>(f_->write); }
    std::atomic_ref<uint32_t> read_ref() const { return std::atomic_ref<uint32_t>(f_->read); }

    avp_fifo* f_ = nullptr;
    uint32_t mask_ = 0;
    uint32_t mine_ = 0;  // our index, private: the guest cannot move it
    uint32_t peer_ = 0;  // guest's index as last read and checked
    bool bad_index_ = false;
};

}  // namespace avpsw
