// Host side of the AVP single-producer/single-consumer FIFOs.
// The guest is the other end and is not trusted: indices it publishes are
// bounds-checked, and slot values are validated by the caller.
#pragma once

#include <avp/avp_device.h>

#include <atomic>
#include <cstdint>

namespace avpsw {

class Fifo {
public:
    Fifo() = default;
    Fifo(avp_fifo* f, uint32_t len) : f_(f), mask_(len - 1) {}

    // Resets indices; only while the guest is not using the ring.
    void reset(uint32_t len)
    {
        mask_ = len - 1;
        f_->len = len;
        f_->elem_size = 8;
        write_ref().store(0, std::memory_order_relaxed);
        read_ref().store(0, std::memory_order_release);
    }

    bool valid() const { return f_ != nullptr; }

    // Producer side (host owns `write`): returns how many were put.
    uint32_t put(const uint64_t* v, uint32_t n)
    {
        uint32_t w = write_ref().load(std::memory_order_relaxed) & mask_;
        uint32_t r = read_ref().load(std::memory_order_acquire);
        if (r > mask_)
            return 0; // guest corrupted the read index: refuse to produce
        uint32_t room = (r - w - 1) & mask_;
        if (n > room)
            n = room;
        for (uint32_t i = 0; i < n; i++)
            f_->slot[(w + i) & mask_] = v[i];
        write_ref().store((w + n) & mask_, std::memory_order_release);
        return n;
    }

    // Consumer side (host owns `read`): returns how many were taken, or 0
    // when the guest published a write index outside the ring.
    uint32_t get(uint64_t* v, uint32_t n)
    {
        uint32_t r = read_ref().load(std::memory_order_relaxed) & mask_;
        uint32_t w = write_ref().load(std::memory_order_acquire);
        if (w > mask_) {
            bad_index_ = true;
            return 0;
        }
        uint32_t avail = (w - r) & mask_;
        if (n > avail)
            n = avail;
        for (uint32_t i = 0; i < n; i++)
            v[i] = f_->slot[(r + i) & mask_];
        read_ref().store((r + n) & mask_, std::memory_order_release);
        return n;
    }

    uint32_t free_space() const
    {
        uint32_t w = write_ref().load(std::memory_order_relaxed);
        uint32_t r = read_ref().load(std::memory_order_acquire);
        return (r - w - 1) & mask_;
    }

    uint32_t write_index() const { return write_ref().load(std::memory_order_relaxed); }
    // Raw index poke used only by fault injection.
    void force_write_index(uint32_t w) { write_ref().store(w, std::memory_order_release); }

    bool take_bad_index()
    {
        bool b = bad_index_;
        bad_index_ = false;
        return b;
    }

private:
    std::atomic_ref<uint32_t> write_ref() const { return std::atomic_ref<uint32_t>(f_->write); }
    std::atomic_ref<uint32_t> read_ref() const { return std::atomic_ref<uint32_t>(f_->read); }

    avp_fifo* f_ = nullptr;
    uint32_t mask_ = 0;
    bool bad_index_ = false;
};

} // namespace avpsw
