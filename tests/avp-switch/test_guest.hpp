// A small AVP guest for tests: maps a device the way a driver would (region
// file, or the resourceN files of a legacy PCI directory), translates every
// host address through the memory map and pools, and checks each one
// against the mapped memory before touching it.
#pragma once

#include <avp/avp_region.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace avptest {

struct RxFrame {
    std::vector<uint8_t> bytes;
    uint16_t ol_flags = 0;
    uint16_t vlan_tci = 0;
    uint32_t segments = 0;
};

// Why a host descriptor was refused (fault tests check these).
enum class Bad { None, SlotAddress, DataAddress, NextAddress, Length, ChainLoop, NbSegs, FifoIndex, Empty };

class TestGuest {
public:
    // `path` is a region file or a legacy device directory (…/0000:00:NN.0).
    explicit TestGuest(std::string path);
    ~TestGuest();
    TestGuest(const TestGuest&) = delete;
    TestGuest& operator=(const TestGuest&) = delete;

    // Validates magics and layout and translates queue/sync addresses;
    // empty string on success, else the reason.
    std::string load();

    // Control requests: returns the host's result, or nullopt on timeout.
    // `posted` runs once the request is on the FIFO (a driver's doorbell).
    std::optional<int32_t> request(avp_request r, int timeout_ms = 2000, const std::function<void()>& posted = {});
    std::optional<int32_t> configure(bool up, uint16_t txq = 1, uint16_t rxq = 1, uint32_t features = 0);
    std::optional<int32_t> set_mtu(uint32_t mtu);
    std::optional<int32_t> set_link(uint8_t up);
    std::optional<int32_t> shutdown();
    // Puts an arbitrary address on req (hostile guest).
    void post_raw_request(uint64_t va);

    // Transmit one frame (chained over alloc buffers as needed).
    bool send(const std::vector<uint8_t>& frame, uint16_t queue = 0, bool vlan = false, uint16_t tci = 0);
    // Hostile guest: like send(), but `mangle` edits the head descriptor
    // (given its host VA) before it is posted.
    bool send_mangled(const std::vector<uint8_t>& frame, void (*mangle)(avp_desc*, uint64_t));
    // Hostile guest: raw values on tx / free.
    void post_raw_tx(uint64_t va);
    void post_raw_free(uint64_t va);
    // Receive one frame, validating everything; returns nullopt on timeout.
    std::optional<RxFrame> receive(int timeout_ms = 2000, uint16_t queue = 0);
    // Takes one rx slot and reports what is wrong with it (for fault tests);
    // valid buffers are returned to free.
    Bad receive_checked(int timeout_ms = 2000, uint16_t queue = 0);

    // Takes one alloc slot and says what is wrong with it for a guest that
    // is about to fill it (fault tests); `out` gets the descriptor as found.
    // Bad::None when it would be safe to use (it then stays with us),
    // Bad::Empty when nothing came.
    Bad take_alloc_checked(avp_desc* out = nullptr, int timeout_ms = 2000, uint16_t queue = 0);
    // Bad::FifoIndex when the host's read index of free FIFO `queue` is beyond its length.
    Bad check_free_index(uint16_t queue = 0) const;

    // Migration registers.
    uint32_t migration_status() const;
    void ack(uint32_t state);
    bool wait_status(uint32_t want, int timeout_ms = 3000) const;
    uint32_t rx_write_index(uint16_t queue = 0) const;

    const avp_device_info& info() const { return info_; }
    const std::vector<avp_memmap_entry>& entries() const { return entries_; }
    const avp_region_header* header() const { return header_; }
    // The interrupt area the header points at, checked like everything
    // else; null when the host offers none.
    avp_irq_area* irq() const;
    const avp_memmap* live_memmap() const { return memmap_; }
    const avp_device_info* live_info() const { return live_info_; }

private:
    struct Mapping {
        void* addr = nullptr;
        size_t size = 0;
    };
    Mapping map_file(const std::string& file);
    uint8_t* phys_to_guest(uint64_t phys, uint64_t len) const;
    uint8_t* va_to_guest(uint64_t va, uint64_t len) const;
    avp_fifo* fifo(uint64_t phys, uint32_t stride, uint16_t q) const;
    void (*mangle_)(avp_desc*, uint64_t) = nullptr;

    std::string path_;
    std::vector<Mapping> maps_;
    avp_region_header* header_ = nullptr;
    uint32_t* regs_ = nullptr;
    avp_memmap* memmap_ = nullptr;
    avp_device_info* live_info_ = nullptr;
    uint8_t* data_ = nullptr;
    uint64_t data_size_ = 0;
    avp_device_info info_{};                 // snapshot taken at load()
    std::vector<avp_memmap_entry> entries_;  // snapshot taken at load()
    std::vector<uint64_t> spare_;            // alloc buffers taken but not yet used
};

std::vector<uint8_t> make_frame(size_t len, uint32_t seq, const uint8_t* dst = nullptr, const uint8_t* src = nullptr);

}  // namespace avptest
