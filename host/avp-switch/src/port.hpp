// One AVP device as the switch sees it: its shared memory, the host buffer
// pool inside it, and the guest-visible state. The datapath half is driven
// by exactly one forwarding thread; the control half (build, requests,
// migration) by the control thread, only while the datapath is quiesced
// for anything that touches the data rings.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gsdk/log.h>
#include "device_memory.hpp"
#include "fifo.hpp"
#include "port_config.hpp"

namespace avpsw {

constexpr uint32_t kBurst = 32;
// Buffer recycling (free -> pool -> alloc) runs every kRecycleEvery passes
// (a power of two), moving up to kRecycleBatch buffers per FIFO.
constexpr uint32_t kRecycleEvery = 4;
constexpr uint32_t kRecycleBatch = 8 * kBurst;
constexpr uint32_t kCtlFifoLen = 16;
// The switch's own peer id towards QEMU's ivshmem-doorbell (clients are
// numbered from 1): a guest rings it to wake a sleeping forwarding thread.
constexpr uint32_t kSwitchPeerId = 0;

enum class GuestState : uint32_t { Unconfigured, Down, Up, Shutdown };
const char* guest_state_name(GuestState s);

enum class FaultMode : uint32_t {
    None,
    // receive path (rx FIFO 0)
    SlotOutside,  // rx slot holds an address in no pool
    DataOutside,  // descriptor data points outside the region
    NextOutside,  // chained descriptor whose next leaves the region
    Oversize,     // data_len/pkt_len beyond the buffer and max frame
    ChainLoop,    // next points back to the head, nb_segs 5
    NbSegsLie,    // nb_segs says 3, chain ends after 1
    FifoIndex,    // rx write index beyond len
    // transmit path (alloc FIFO 0): buffers a guest must check before use
    AllocOutside,      // alloc slot holds an address in no pool
    AllocDataOutside,  // alloc buffer whose data points outside the region
    AllocShortRoom,    // data so close to the pool's end that mbuf_size bytes do not fit
    AllocChainLoop,    // a usable buffer whose stale next points at itself, nb_segs 5
    AllocGarbage,      // a usable buffer with absurd stale lengths and flags
    AllocIndex,        // alloc write index beyond len
    FreeIndex,         // free read index beyond len
    // control responses
    RespAddress,  // the answer on resp is not the sync area's address
    RespResult,   // the result written is no errno
    // device info
    DevinfoMagic,  // wrong device info magic
    MemmapMagic,   // wrong memory map magic
    RegionMagic,   // wrong region header magic (ivshmem/file)
    Clear,         // undo the magic/index faults
};
bool parse_fault_mode(const std::string& s, FaultMode& m);
const char* fault_mode_names();

// Written by the owning thread only, read by anyone (relaxed).
struct PortCounters {
    std::atomic<uint64_t> rx_packets{0}, rx_bytes{0}, rx_errors{0}, rx_drops{0};
    std::atomic<uint64_t> tx_packets{0}, tx_bytes{0}, tx_errors{0}, tx_drops{0};
    std::atomic<uint64_t> free_errors{0}, ctl_requests{0}, ctl_errors{0}, faults_injected{0};
    std::atomic<uint64_t> irq_queue_signals{0}, irq_control_signals{0};
    std::atomic<uint64_t> host_wakeups{0};  // forwarding thread woken by this guest's doorbell
    std::atomic<uint64_t> ctrl_rings{0};    // control thread rung by this guest after a request
};

inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// A validated frame the guest transmitted, still in its host buffers.
struct Frame {
    uint32_t nseg = 0;
    const uint8_t* seg[AVP_MAX_SEGMENTS];
    uint16_t len[AVP_MAX_SEGMENTS];
    uint32_t pkt_len = 0;
    uint16_t ol_flags = 0;
    uint16_t vlan_tci = 0;
    uint32_t buf[AVP_MAX_SEGMENTS];
    uint32_t nbuf = 0;
    const uint8_t* dst_mac() const { return seg[0]; }
    const uint8_t* src_mac() const { return seg[0] + 6; }
};

class Port {
public:
    static std::unique_ptr<Port> create(const PortConfig& cfg, std::string& error);
    ~Port();

    const PortConfig& config() const { return cfg_; }
    const std::string& name() const { return cfg_.name; }
    std::string location() const { return mem_->location(); }
    uint64_t device_id() const { return device_id_; }
    uint32_t generation() const { return generation_; }

    // ---- control thread -------------------------------------------------
    // (Re)creates the device image for address generation `gen`: memory map,
    // device info, empty FIFOs, every buffer back with the host. The
    // datapath must not be running on this port.
    void build(uint32_t gen);
    uint32_t reg(uint32_t off) const;
    void set_reg(uint32_t off, uint32_t v);
    void raise_migration_interrupt();
    // Answers pending guest control requests; returns how many.
    uint32_t service_requests();
    // Applies the faults that are not ring traffic (magics, indices) or
    // queues ring faults for the datapath.
    std::string inject_fault(FaultMode m, uint32_t count);
    // True once the datapath has carried out every queued ring fault.
    bool faults_done() const { return fault_pending_.load(std::memory_order_acquire) == 0; }

    // ---- interrupts (ivshmem-doorbell; control thread) --------------------
    bool has_doorbell() const { return b_.irq != nullptr; }
    uint32_t irq_vectors() const { return 1 + cfg_.queues; }
    int region_fd() const { return mem_->region_fd(); }
    std::string backing() const { return mem_->backing(); }
    // The eventfds of the connected QEMU, in vector order; from now on the
    // datapath signals them. Armed queues are signalled once at once, so a
    // guest that armed while no QEMU was connected does not sleep forever.
    void set_irq_fds(const std::vector<int>& fds);
    // Stops signalling; the caller closes the old eventfds only once the
    // forwarding thread has finished the pass that may still use them.
    void clear_irq_fds();
    void signal_control();  // vector 0: migration status or control response
    // The eventfd QEMU sets when the guest rings the switch's peer
    // (kSwitchPeerId, vector 0); -1 when the port has no doorbell or no fd.
    int wake_fd() const { return wake_fd_; }
    // The switch's vector 1: a guest rings it after posting a control request.
    int ctrl_ring_fd() const { return ctrl_ring_fd_; }
    // Reads (and counts) rings of ctrl_ring_fd() since the last call.
    void take_ctrl_ring();

    // ---- sleeping until rung (owning forwarding thread) -------------------
    // The guest promised to ring wake_fd() when it finds host_asleep set.
    bool guest_rings() const;
    // Stores host_asleep (1 before sleeping, 0 once awake).
    void set_host_asleep(bool asleep);
    // Reads the wake eventfd empty, counting a ring the guest made.
    void take_wakeup();

    std::atomic<bool> active{false};  // datapath may touch the data rings
    std::atomic<GuestState> guest_state{GuestState::Unconfigured};
    std::atomic<uint32_t> mtu{AVP_MAX_FRAME - 22};  // no limit below max_rx_pkt_len until the guest sets one
    std::atomic<uint32_t> features{0};
    std::atomic<uint32_t> num_tx{1}, num_rx{1};
    std::atomic<uint32_t> driver_type{0}, driver_version{0};
    PortCounters counters;

    // ---- datapath (owning forwarding thread) ------------------------------
    // Reclaims returned rx buffers and keeps the alloc FIFOs stocked.
    // Reclaims every pass that asks `now` (before sleeping), else every few.
    void housekeeping(bool now = false);
    // Takes up to `max` frames the guest transmitted; invalid ones are
    // counted and their buffers reclaimed here.
    uint32_t receive_burst(Frame* out, uint32_t max);
    // Returns a received frame's buffers to the host pool.
    void release(const Frame& f);
    // Copies a frame into this port's buffers, staged for the rx FIFO of its
    // flow's queue.
    void stage(const Frame& f);
    // Moves a frame's own buffers to this port's rx FIFO (loopback, no copy).
    void stage_in_place(const Frame& f);
    // Publishes staged frames on the rx FIFOs.
    void flush();

private:
    enum Owner : uint8_t { Host, GuestAlloc, GuestRxHead, GuestRxSeg, GuestFault };

    Port(const PortConfig& cfg, std::unique_ptr<DeviceMemory> mem);
    void compute_layout();
    void write_device_info();
    void write_memmap();

    uint8_t* buf_ptr(uint32_t i) const { return pool_ + (uint64_t(i) << shift_); }
    avp_desc* desc(uint32_t i) const { return reinterpret_cast<avp_desc*>(buf_ptr(i)); }
    uint64_t buf_va(uint32_t i) const { return pool_va_ + (uint64_t(i) << shift_); }
    // Index of the buffer whose descriptor sits at host VA `va`, or -1.
    int64_t index_of(uint64_t va) const {
        uint64_t off = va - pool_va_;
        if (va < pool_va_ || off >= (uint64_t(nbuf_) << shift_) || (off & ((1u << shift_) - 1))) return -1;
        return static_cast<int64_t>(off >> shift_);
    }
    bool parse_tx(uint64_t va, Frame& f);
    void reclaim_rx(uint64_t va);
    // True when done; false to try again next pass (no room yet).
    bool inject_ring_fault(FaultMode m);
    bool inject_alloc_fault(FaultMode m);
    void give_back(uint32_t i) {
        stack_[stack_n_++] = i;
        owner_[i] = Host;
    }
    uint32_t max_frame_out() const;
    // The receive queue of the frame's flow.
    uint32_t rx_queue_of(const Frame& f) const;
    // Room for one more staged frame on rx FIFO q (read once per flush).
    bool rx_room(uint32_t q);
    // After posting to queue q's rx or alloc FIFO: wakes an armed guest.
    void signal_queue(uint32_t q) {
        if (!b_.irq) return;
        int fd = irq_fd_[AVP_IRQ_VECTOR_QUEUE(q)].load(std::memory_order_acquire);
        if (fd >= 0) wake_queue(q, fd);
    }
    void wake_queue(uint32_t q, int fd);

    PortConfig cfg_;
    std::unique_ptr<DeviceMemory> mem_;
    DeviceBlocks b_;

    // layout inside the data area (offsets), fixed for the port's life
    uint64_t fifo_stride_ = 0, tx_off_ = 0, rx_off_ = 0, alloc_off_ = 0, free_off_ = 0;
    uint64_t req_off_ = 0, resp_off_ = 0, sync_off_ = 0, control_size_ = 0;
    uint64_t pool_off_ = 0, pool_size_ = 0;
    uint32_t shift_ = 0, nbuf_ = 0;
    uint8_t* pool_ = nullptr;

    // addresses of the current generation
    uint32_t generation_ = 0;
    uint64_t device_id_ = 0;
    uint64_t ctl_va_ = 0, ctl_phys_ = 0, pool_va_ = 0, pool_phys_ = 0;

    // host-private buffer bookkeeping; the guest cannot corrupt these
    std::vector<uint32_t> stack_;
    uint32_t stack_n_ = 0;
    std::vector<uint8_t> owner_;
    std::vector<uint32_t> rx_next_;  // host's own record of rx chains
    static constexpr uint32_t kNoNext = 0xffffffffu;

    Fifo tx_[AVP_MAX_QUEUES], rx_[AVP_MAX_QUEUES], alloc_[AVP_MAX_QUEUES], free_[AVP_MAX_QUEUES];
    Fifo req_, resp_;
    uint32_t tx_cursor_ = 0;
    uint32_t rx_cursor_ = 0;  // the rx FIFO for frames of no flow, turned by flush()
    uint32_t recycle_tick_ = 0;

    // Frames staged per rx FIFO, published by flush().
    uint64_t pending_[AVP_MAX_QUEUES][2 * kBurst];
    uint32_t pending_n_[AVP_MAX_QUEUES] = {};
    uint32_t pending_queues_ = 0;                                      // bit q: pending_n_[q] != 0
    int64_t room_[AVP_MAX_QUEUES] = {-1, -1, -1, -1, -1, -1, -1, -1};  // rx FIFO room, -1 = not yet read

    std::atomic<int> irq_fd_[AVP_IRQ_MAX_VECTORS];
    int wake_fd_ = -1;
    int ctrl_ring_fd_ = -1;
    gsdk::LogRateLimiter ctl_log_;  // a guest may send bad requests in a loop

    std::atomic<uint32_t> fault_pending_{0};
    std::atomic<uint32_t> fault_mode_{0};
    uint32_t saved_rx_write_ = 0;
    bool rx_index_fault_ = false;
    bool alloc_index_fault_ = false, free_index_fault_ = false;  // queue 0, until clear
    uint32_t resp_address_faults_ = 0, resp_result_faults_ = 0;  // control thread
};

}  // namespace avpsw
