// L2 learning table: fixed size, open addressing, owned by one forwarding
// thread so it needs no locks and never allocates after construction.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

namespace avpsw {

class MacTable {
public:
    static constexpr int kNone = -1;

    explicit MacTable(uint32_t slots = 4096) : mask_(slots - 1), t_(slots) {}

    void learn(const uint8_t* mac, uint32_t port) {
        uint64_t k = key(mac);
        uint32_t h = hash(k);
        for (uint32_t p = 0; p < kProbe; p++) {
            Entry& e = t_[(h + p) & mask_];
            if (e.key == k) {
                e.port = port;  // a station that moved
                return;
            }
            if (e.key == 0) {
                e = {k, port};
                size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                return;
            }
        }
        t_[h & mask_] = {k, port};  // full neighbourhood: newest wins
    }

    int lookup(const uint8_t* mac) const {
        uint64_t k = key(mac);
        uint32_t h = hash(k);
        for (uint32_t p = 0; p < kProbe; p++) {
            const Entry& e = t_[(h + p) & mask_];
            if (e.key == k) return static_cast<int>(e.port);
            if (e.key == 0) return kNone;
        }
        return kNone;
    }

    uint32_t size() const { return size_.load(std::memory_order_relaxed); }

private:
    struct Entry {
        uint64_t key = 0;  // MAC | 1<<48 so that no valid key is 0
        uint32_t port = 0;
    };
    static constexpr uint32_t kProbe = 8;
    static uint64_t key(const uint8_t* m) {
        uint64_t k = 0;
        std::memcpy(&k, m, 6);
        return k | (1ull << 48);
    }
    static uint32_t hash(uint64_t k) { return static_cast<uint32_t>((k * 0x9e3779b97f4a7c15ull) >> 40); }

    uint32_t mask_;
    std::vector<Entry> t_;
    std::atomic<uint32_t> size_{0};
};

}  // namespace avpsw
