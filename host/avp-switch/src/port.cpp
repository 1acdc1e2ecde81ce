// Port: device image, addresses, control requests (control-thread side).
#include "port.hpp"

#include <sys/eventfd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>

#include <unistd.h>

namespace avpsw {

namespace {

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
constexpr uint64_t kGiB = 1ull << 30;

// Fake host address spaces. Each generation (a migration) moves both the
// virtual and the physical bases, and the two segments have different
// VA-phys offsets with the pool below the control segment physically, so a
// guest that assumes one offset or sorted entries gets caught.
constexpr uint64_t kVaTop = 0x7f0000000000ull;
constexpr uint64_t kVaStep = 0x2000000000ull;
constexpr uint64_t kPhysBase = 0x100000000ull;
constexpr uint64_t kPhysStep = 0x1000000000ull;

uint64_t fresh_device_id() {
    static std::mt19937_64 rng(std::random_device{}());
    uint64_t v;
    do v = rng();
    while (v == 0);
    return v;
}

}  // namespace

const char* guest_state_name(GuestState s) {
    switch (s) {
    case GuestState::Unconfigured:
        return "unconfigured";
    case GuestState::Down:
        return "down";
    case GuestState::Up:
        return "up";
    case GuestState::Shutdown:
        return "shutdown";
    }
    return "?";
}

std::unique_ptr<Port> Port::create(const PortConfig& cfg, std::string& error) {
    // Size first, then ask the backing for exactly that much data area.
    Port probe(cfg, nullptr);
    probe.compute_layout();
    auto mem = create_device_memory(cfg, probe.control_size_ + probe.pool_size_, error);
    if (!mem) return nullptr;
    std::unique_ptr<Port> p(new Port(cfg, std::move(mem)));
    p->compute_layout();
    p->build(0);
    p->mem_->publish();
    return p;
}

Port::Port(const PortConfig& cfg, std::unique_ptr<DeviceMemory> mem) : cfg_(cfg), mem_(std::move(mem)) {
    if (mem_) b_ = mem_->blocks();
    for (auto& fd : irq_fd_) fd.store(-1);
    // Without them (EMFILE) the port is polled as before and offers no
    // wake-up; the control ring is our peer's vector 1, so only with vector 0.
    if (b_.irq) wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ >= 0) ctrl_ring_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Port::~Port() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (ctrl_ring_fd_ >= 0) ::close(ctrl_ring_fd_);
}

void Port::compute_layout() {
    fifo_stride_ = round_up(AVP_FIFO_BYTES(cfg_.fifo_len), 64);
    uint64_t kind = fifo_stride_ * cfg_.queues;
    tx_off_ = 0;
    rx_off_ = tx_off_ + kind;
    alloc_off_ = rx_off_ + kind;
    free_off_ = alloc_off_ + kind;
    req_off_ = free_off_ + kind;
    resp_off_ = req_off_ + round_up(AVP_FIFO_BYTES(kCtlFifoLen), 64);
    sync_off_ = resp_off_ + round_up(AVP_FIFO_BYTES(kCtlFifoLen), 64);
    control_size_ = round_up(sync_off_ + 4096, 4096);
    shift_ = 6;
    while ((1u << shift_) < sizeof(avp_desc) + cfg_.mbuf_size) shift_++;
    nbuf_ = cfg_.buffers;
    pool_off_ = control_size_;
    pool_size_ = round_up(uint64_t(nbuf_) << shift_, 4096);
}

void Port::build(uint32_t gen) {
    generation_ = gen;
    device_id_ = fresh_device_id();
    ctl_phys_ = kPhysBase + gen * kPhysStep + round_up(pool_size_, kGiB) + kGiB;
    pool_phys_ = kPhysBase + gen * kPhysStep;
    ctl_va_ = kVaTop - gen * kVaStep;
    pool_va_ = ctl_va_ + round_up(control_size_, kGiB) + 2 * kGiB;
    pool_ = b_.data + pool_off_;

    auto fifo_at = [&](uint64_t off) { return reinterpret_cast<avp_fifo*>(b_.data + off); };
    for (uint32_t q = 0; q < cfg_.queues; q++) {
        tx_[q] = Fifo(fifo_at(tx_off_ + q * fifo_stride_), cfg_.fifo_len);
        rx_[q] = Fifo(fifo_at(rx_off_ + q * fifo_stride_), cfg_.fifo_len);
        alloc_[q] = Fifo(fifo_at(alloc_off_ + q * fifo_stride_), cfg_.fifo_len);
        free_[q] = Fifo(fifo_at(free_off_ + q * fifo_stride_), cfg_.fifo_len);
        for (Fifo* f : {&tx_[q], &rx_[q], &alloc_[q], &free_[q]}) f->reset(cfg_.fifo_len);
    }
    req_ = Fifo(fifo_at(req_off_), kCtlFifoLen);
    resp_ = Fifo(fifo_at(resp_off_), kCtlFifoLen);
    req_.reset(kCtlFifoLen);
    resp_.reset(kCtlFifoLen);
    std::memset(b_.data + sync_off_, 0, 4096);

    stack_.assign(nbuf_, 0);
    owner_.assign(nbuf_, Host);
    rx_next_.assign(nbuf_, kNoNext);
    stack_n_ = 0;
    for (uint32_t i = nbuf_; i-- > 0;) stack_[stack_n_++] = i;
    for (uint32_t q = 0; q < AVP_MAX_QUEUES; q++) {
        pending_n_[q] = 0;
        room_[q] = -1;
    }
    pending_queues_ = 0;
    rx_index_fault_ = alloc_index_fault_ = free_index_fault_ = false;
    fault_pending_.store(0);
    tx_cursor_ = rx_cursor_ = 0;

    guest_state.store(GuestState::Unconfigured);
    num_tx.store(1);
    num_rx.store(1);
    features.store(0);
    mtu.store(AVP_MAX_FRAME - 22);
    write_memmap();
    write_device_info();
    if (b_.irq) {
        std::memset(static_cast<void*>(b_.irq), 0, sizeof(*b_.irq));
        b_.irq->nb_vectors = irq_vectors();
        if (wake_fd_ >= 0) {
            b_.irq->wake_doorbell = kSwitchPeerId << 16;  // vector 0 of our peer
            b_.irq->wake_offered = 1;
        }
        if (ctrl_ring_fd_ >= 0) b_.irq->ctrl_doorbell = kSwitchPeerId << 16 | 1;
        __atomic_store_n(&b_.irq->magic, AVP_IRQ_MAGIC, __ATOMIC_RELEASE);
    }
}

void Port::set_irq_fds(const std::vector<int>& fds) {
    for (uint32_t v = 0; v < AVP_IRQ_MAX_VECTORS; v++)
        irq_fd_[v].store(v < fds.size() ? fds[v] : -1, std::memory_order_release);
    for (uint32_t q = 0; q < cfg_.queues; q++) signal_queue(q);
}

void Port::clear_irq_fds() {
    for (auto& fd : irq_fd_) fd.store(-1, std::memory_order_release);
}

void Port::signal_control() {
    int fd = irq_fd_[AVP_IRQ_VECTOR_CONTROL].load(std::memory_order_acquire);
    if (fd < 0) return;
    bump(counters.irq_control_signals);
    (void)eventfd_write(fd, 1);  // fails only when the counter is saturated: it is pending anyway
}

bool Port::guest_rings() const {
    return b_.irq && wake_fd_ >= 0 && __atomic_load_n(&b_.irq->guest_rings, __ATOMIC_RELAXED) == 1;
}

void Port::set_host_asleep(bool asleep) {
    if (b_.irq) __atomic_store_n(&b_.irq->host_asleep, asleep ? 1u : 0u, __ATOMIC_RELAXED);
}

void Port::take_wakeup() {
    eventfd_t n;
    if (wake_fd_ >= 0 && eventfd_read(wake_fd_, &n) == 0) bump(counters.host_wakeups);
}

void Port::take_ctrl_ring() {
    eventfd_t n;
    if (ctrl_ring_fd_ >= 0 && eventfd_read(ctrl_ring_fd_, &n) == 0) bump(counters.ctrl_rings);
}

void Port::write_memmap() {
    avp_memmap& m = *b_.memmap;
    std::memset(&m, 0, sizeof(m));
    m.version = AVP_MEMMAP_VERSION;
    m.count = 2;
    m.entry[0] = {ctl_va_, ctl_phys_, control_size_};
    m.entry[1] = {pool_va_, pool_phys_, pool_size_};
    __atomic_store_n(&m.magic, AVP_MEMMAP_MAGIC, __ATOMIC_RELEASE);
}

void Port::write_device_info() {
    avp_device_info& d = *b_.info;
    std::memset(&d, 0, sizeof(d));
    d.version = AVP_HOST_VERSION;
    std::snprintf(d.ifname, sizeof(d.ifname), "%s", cfg_.name.c_str());
    d.tx_phys = ctl_phys_ + tx_off_;
    d.rx_phys = ctl_phys_ + rx_off_;
    d.alloc_phys = ctl_phys_ + alloc_off_;
    d.free_phys = ctl_phys_ + free_off_;
    d.features = AVP_FEATURE_VLAN_OFFLOAD;
    d.min_rx_queues = d.min_tx_queues = 1;
    d.num_rx_queues = d.num_tx_queues = 1;
    d.max_rx_queues = d.max_tx_queues = static_cast<uint8_t>(cfg_.queues);
    d.tx_size = d.rx_size = d.alloc_size = d.free_size = static_cast<uint32_t>(fifo_stride_);
    d.req_phys = ctl_phys_ + req_off_;
    d.resp_phys = ctl_phys_ + resp_off_;
    d.sync_phys = ctl_phys_ + sync_off_;
    d.sync_va = ctl_va_ + sync_off_;
    d.mbuf_va = pool_va_;
    d.mbuf_phys = pool_phys_;
    d.pool[0] = {pool_va_, pool_phys_, pool_size_};
    std::memcpy(d.ethaddr, cfg_.mac.data(), 6);
    d.mode = AVP_MODE_GUEST;
    d.mbuf_size = cfg_.mbuf_size;
    d.device_id = device_id_;
    d.max_rx_pkt_len = AVP_MAX_FRAME;
    __atomic_store_n(&d.magic, AVP_DEVICE_MAGIC, __ATOMIC_RELEASE);
}

uint32_t Port::reg(uint32_t off) const { return __atomic_load_n(&b_.regs[off / 4], __ATOMIC_ACQUIRE); }
void Port::set_reg(uint32_t off, uint32_t v) { __atomic_store_n(&b_.regs[off / 4], v, __ATOMIC_RELEASE); }

void Port::raise_migration_interrupt() {
    if (reg(AVP_REG_INTERRUPT_MASK) & AVP_MIGRATION_INTERRUPT)
        __atomic_fetch_or(&b_.regs[AVP_REG_INTERRUPT_STATUS / 4], AVP_MIGRATION_INTERRUPT, __ATOMIC_RELEASE);
    signal_control();
}

uint32_t Port::service_requests() {
    uint64_t va[kCtlFifoLen];
    uint32_t n = req_.get(va, kCtlFifoLen);
    if (req_.take_bad_index()) {
        bump(counters.ctl_errors);
        gsdk::ratelimited_logf(ctl_log_, "", gsdk::LogLevel::Warning,
                               "port %s: guest published a bad req FIFO write index", name().c_str());
    }
    auto* sync = reinterpret_cast<avp_request*>(b_.data + sync_off_);
    for (uint32_t i = 0; i < n; i++) {
        bump(counters.ctl_requests);
        if (va[i] != b_.info->sync_va) {
            bump(counters.ctl_errors);
            gsdk::ratelimited_logf(ctl_log_, "", gsdk::LogLevel::Warning,
                                   "port %s: request at 0x%llx is not the sync area", name().c_str(),
                                   static_cast<unsigned long long>(va[i]));
            resp_.put(&va[i], 1);  // echoed so the guest stops waiting
            continue;
        }
        avp_request r;
        std::memcpy(&r, sync, sizeof(r));  // one snapshot: the guest may still scribble
        int32_t result = 0;
        switch (r.req_id) {
        case AVP_REQ_CHANGE_MTU:
            if (r.new_mtu < 68 || r.new_mtu > AVP_MAX_FRAME - 22)
                result = -EINVAL;
            else
                mtu.store(r.new_mtu);
            break;
        case AVP_REQ_CFG_NETWORK_IF:
            if (r.if_up > 1)
                result = -EINVAL;
            else
                guest_state.store(r.if_up ? GuestState::Up : GuestState::Down);
            break;
        case AVP_REQ_CFG_DEVICE: {
            const avp_device_config& c = r.config;
            if (c.device_id != device_id_)
                result = -ESTALE;  // guest did not re-read device info after a move
            else if (c.num_tx_queues < 1 || c.num_tx_queues > cfg_.queues || c.num_rx_queues < 1 ||
                     c.num_rx_queues > cfg_.queues)
                result = -EINVAL;
            else if (c.features & ~uint32_t(AVP_FEATURE_VLAN_OFFLOAD))
                result = -ENOTSUP;
            else if (c.driver_type < AVP_DRIVER_DPDK || c.driver_type > AVP_DRIVER_QEMU || c.if_up > 1)
                result = -EINVAL;
            if (result == 0) {
                num_tx.store(c.num_tx_queues);
                num_rx.store(c.num_rx_queues);
                features.store(c.features);
                driver_type.store(c.driver_type);
                driver_version.store(c.driver_version);
                guest_state.store(c.if_up ? GuestState::Up : GuestState::Down);
            }
            break;
        }
        case AVP_REQ_SHUTDOWN:
            guest_state.store(GuestState::Shutdown);
            break;
        default:
            result = -EINVAL;
            break;
        }
        if (result != 0) {
            bump(counters.ctl_errors);
            gsdk::ratelimited_logf(ctl_log_, "", gsdk::LogLevel::Notice, "port %s: request %u refused: %s",
                                   name().c_str(), r.req_id, std::strerror(-result));
        }
        uint64_t answer = va[i];
        // Hostile host, one fault per answer: an answer for another address,
        // or a result that is no errno.
        if (resp_address_faults_) {
            resp_address_faults_--;
            answer = va[i] ^ 0x40;
            bump(counters.faults_injected);
        } else if (resp_result_faults_) {
            resp_result_faults_--;
            result = 0x5a5a5a5a;
            bump(counters.faults_injected);
        }
        // result sits unaligned (offset 29); the release store of resp.write orders it
        std::memcpy(reinterpret_cast<uint8_t*>(sync) + offsetof(avp_request, result), &result, sizeof(result));
        if (resp_.put(&answer, 1) != 1) bump(counters.ctl_errors);
    }
    if (n) signal_control();
    return n;
}

std::string Port::inject_fault(FaultMode m, uint32_t count) {
    avp_region_header* h = b_.header;
    switch (m) {
    case FaultMode::DevinfoMagic:
        __atomic_store_n(&b_.info->magic, 0xbadc0de5u, __ATOMIC_RELEASE);
        break;
    case FaultMode::MemmapMagic:
        __atomic_store_n(&b_.memmap->magic, 0xbadc0de5u, __ATOMIC_RELEASE);
        break;
    case FaultMode::RegionMagic:
        if (!h) return "the legacy profile has no region header";
        __atomic_store_n(&h->magic, 0xbadc0de5u, __ATOMIC_RELEASE);
        break;
    case FaultMode::RespAddress:
        resp_address_faults_ += count;
        return {};  // counted as injected when a request is answered
    case FaultMode::RespResult:
        resp_result_faults_ += count;
        return {};
    case FaultMode::Clear:
        resp_address_faults_ = resp_result_faults_ = 0;
        __atomic_store_n(&b_.info->magic, AVP_DEVICE_MAGIC, __ATOMIC_RELEASE);
        __atomic_store_n(&b_.memmap->magic, AVP_MEMMAP_MAGIC, __ATOMIC_RELEASE);
        if (h) __atomic_store_n(&h->magic, AVP_REGION_MAGIC, __ATOMIC_RELEASE);
        [[fallthrough]];
    default:
        if (!active.load()) return "port is detached; ring faults need an attached port";
        if (fault_pending_.load() != 0) return "a fault is still being injected on this port";
        fault_mode_.store(static_cast<uint32_t>(m));
        fault_pending_.store(count ? count : 1, std::memory_order_release);
        return {};
    }
    bump(counters.faults_injected);
    return {};
}

bool parse_fault_mode(const std::string& s, FaultMode& m) {
    static const std::pair<const char*, FaultMode> table[] = {
        {"slot-outside", FaultMode::SlotOutside},
        {"data-outside", FaultMode::DataOutside},
        {"next-outside", FaultMode::NextOutside},
        {"oversize", FaultMode::Oversize},
        {"chain-loop", FaultMode::ChainLoop},
        {"nb-segs-lie", FaultMode::NbSegsLie},
        {"fifo-index", FaultMode::FifoIndex},
        {"alloc-outside", FaultMode::AllocOutside},
        {"alloc-data-outside", FaultMode::AllocDataOutside},
        {"alloc-short-room", FaultMode::AllocShortRoom},
        {"alloc-chain-loop", FaultMode::AllocChainLoop},
        {"alloc-garbage", FaultMode::AllocGarbage},
        {"alloc-index", FaultMode::AllocIndex},
        {"free-index", FaultMode::FreeIndex},
        {"resp-address", FaultMode::RespAddress},
        {"resp-result", FaultMode::RespResult},
        {"devinfo-magic", FaultMode::DevinfoMagic},
        {"memmap-magic", FaultMode::MemmapMagic},
        {"region-magic", FaultMode::RegionMagic},
        {"clear", FaultMode::Clear},
    };
    for (auto& [n, v] : table)
        if (s == n) {
            m = v;
            return true;
        }
    return false;
}

const char* fault_mode_names() {
    return "slot-outside, data-outside, next-outside, oversize, chain-loop, nb-segs-lie, fifo-index, "
           "alloc-outside, alloc-data-outside, alloc-short-room, alloc-chain-loop, alloc-garbage, alloc-index, "
           "free-index, resp-address, resp-result, devinfo-magic, memmap-magic, region-magic, clear";
}

}  // namespace avpsw
