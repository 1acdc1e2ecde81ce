#include "test_guest.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

namespace avptest {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic_ref<uint32_t> idx(uint32_t& v) { return std::atomic_ref<uint32_t>(v); }

bool fifo_sane(avp_fifo* f, uint32_t stride) {
    uint32_t len = f->len;
    return len >= 2 && (len & (len - 1)) == 0 && AVP_FIFO_BYTES(len) <= stride;
}

// Guest is producer.
bool fifo_put(avp_fifo* f, uint64_t v) {
    uint32_t len = f->len;
    uint32_t w = idx(f->write).load(std::memory_order_relaxed);
    uint32_t r = idx(f->read).load(std::memory_order_acquire);
    if (w >= len || r >= len) return false;
    uint32_t nw = (w + 1) & (len - 1);
    if (nw == r) return false;
    f->slot[w] = v;
    idx(f->write).store(nw, std::memory_order_release);
    return true;
}

// Guest is consumer. 1: got one, 0: empty, -1: bad index from the host.
int fifo_get(avp_fifo* f, uint64_t& v) {
    uint32_t len = f->len;
    uint32_t r = idx(f->read).load(std::memory_order_relaxed);
    uint32_t w = idx(f->write).load(std::memory_order_acquire);
    if (w >= len || r >= len) return -1;
    if (r == w) return 0;
    v = f->slot[r];
    idx(f->read).store((r + 1) & (len - 1), std::memory_order_release);
    return 1;
}

}  // namespace

TestGuest::TestGuest(std::string path) : path_(std::move(path)) {}

TestGuest::~TestGuest() {
    for (auto& m : maps_)
        if (m.addr) ::munmap(m.addr, m.size);
}

TestGuest::Mapping TestGuest::map_file(const std::string& file) {
    Mapping m;
    int fd = ::open(file.c_str(), O_RDWR);
    if (fd < 0) return m;
    struct stat st {};
    ::fstat(fd, &st);
    void* a = ::mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (a == MAP_FAILED) return m;
    m = {a, static_cast<size_t>(st.st_size)};
    maps_.push_back(m);
    return m;
}

std::string TestGuest::load() {
    if (maps_.empty()) {
        struct stat st {};
        if (::stat(path_.c_str(), &st) != 0) return path_ + ": missing";
        if (S_ISDIR(st.st_mode)) {  // legacy PCI device: one file per BAR
            Mapping r0 = map_file(path_ + "/resource0"), r2 = map_file(path_ + "/resource2"),
                    r4 = map_file(path_ + "/resource4"), r5 = map_file(path_ + "/resource5");
            if (!r0.addr || !r2.addr || !r4.addr || !r5.addr) return "cannot map the resource files";
            if (r4.size < sizeof(avp_memmap) || r5.size < sizeof(avp_device_info) || r0.size < 16)
                return "BARs too small";
            regs_ = static_cast<uint32_t*>(r0.addr);
            data_ = static_cast<uint8_t*>(r2.addr);
            data_size_ = r2.size;
            memmap_ = static_cast<avp_memmap*>(r4.addr);
            live_info_ = static_cast<avp_device_info*>(r5.addr);
        } else {
            Mapping r = map_file(path_);
            if (!r.addr || r.size < sizeof(avp_region_header)) return "cannot map the region";
            auto* h = static_cast<avp_region_header*>(r.addr);
            header_ = h;
            if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != AVP_REGION_MAGIC) return "bad region magic";
            // An ivshmem file is padded to a power of two (a PCI BAR's size):
            // the region is the header's total_size, at most the file.
            uint64_t total = h->total_size;
            auto inside = [&](uint64_t off, uint64_t size, uint64_t need) {
                return size >= need && off <= total && size <= total - off && off % 4096 == 0;
            };
            if (h->version != AVP_REGION_VERSION || total > r.size || !inside(h->regs_offset, h->regs_size, 16) ||
                !inside(h->memmap_offset, h->memmap_size, 16) ||
                !inside(h->devinfo_offset, h->devinfo_size, sizeof(avp_device_info)) ||
                !inside(h->data_offset, h->data_size, 1))
                return "region header does not fit the region";
            auto* base = static_cast<uint8_t*>(r.addr);
            regs_ = reinterpret_cast<uint32_t*>(base + h->regs_offset);
            memmap_ = reinterpret_cast<avp_memmap*>(base + h->memmap_offset);
            live_info_ = reinterpret_cast<avp_device_info*>(base + h->devinfo_offset);
            data_ = base + h->data_offset;
            data_size_ = h->data_size;
        }
    } else if (header_ && __atomic_load_n(&header_->magic, __ATOMIC_ACQUIRE) != AVP_REGION_MAGIC) {
        return "bad region magic";
    }
    if (__atomic_load_n(&memmap_->magic, __ATOMIC_ACQUIRE) != AVP_MEMMAP_MAGIC) return "bad memory map magic";
    if (memmap_->version != AVP_MEMMAP_VERSION || memmap_->count == 0 || memmap_->count > AVP_MEMMAP_MAX)
        return "bad memory map";
    entries_.assign(memmap_->entry, memmap_->entry + memmap_->count);
    uint64_t total = 0;
    for (auto& e : entries_) total += e.length;
    if (total > data_size_) return "memory map larger than the data area";
    if (__atomic_load_n(&live_info_->magic, __ATOMIC_ACQUIRE) != AVP_DEVICE_MAGIC) return "bad device info magic";
    std::memcpy(&info_, live_info_, sizeof(info_));
    if (AVP_VERSION_RELMAJ(info_.version) > AVP_VERSION_RELMAJ(AVP_GUEST_VERSION)) return "host version too new";
    if (info_.max_tx_queues == 0 || info_.max_tx_queues > AVP_MAX_QUEUES || info_.max_rx_queues == 0 ||
        info_.max_rx_queues > AVP_MAX_QUEUES)
        return "bad queue counts";
    for (uint16_t q = 0; q < info_.max_tx_queues; q++)
        if (!fifo(info_.tx_phys, info_.tx_size, q) || !fifo(info_.alloc_phys, info_.alloc_size, q))
            return "tx/alloc FIFO outside the region";
    for (uint16_t q = 0; q < info_.max_rx_queues; q++)
        if (!fifo(info_.rx_phys, info_.rx_size, q) || !fifo(info_.free_phys, info_.free_size, q))
            return "rx/free FIFO outside the region";
    if (!fifo(info_.req_phys, 0, 0) || !fifo(info_.resp_phys, 0, 0) ||
        !phys_to_guest(info_.sync_phys, sizeof(avp_request)))
        return "control area outside the region";
    spare_.clear();
    return {};
}

uint8_t* TestGuest::phys_to_guest(uint64_t phys, uint64_t len) const {
    uint64_t off = 0;
    for (auto& e : entries_) {
        if (phys >= e.host_phys && phys - e.host_phys < e.length && len <= e.length - (phys - e.host_phys)) {
            uint64_t o = off + (phys - e.host_phys);
            return o + len <= data_size_ ? data_ + o : nullptr;
        }
        off += e.length;
    }
    return nullptr;
}

uint8_t* TestGuest::va_to_guest(uint64_t va, uint64_t len) const {
    for (auto& p : info_.pool) {
        if (p.length && va >= p.va && va - p.va < p.length && len <= p.length - (va - p.va))
            return phys_to_guest(p.phys + (va - p.va), len);
    }
    return nullptr;
}

avp_fifo* TestGuest::fifo(uint64_t phys, uint32_t stride, uint16_t q) const {
    if (stride == 0) {  // control FIFOs: device info gives no size, trust only a checked len
        auto* h = reinterpret_cast<avp_fifo*>(phys_to_guest(phys, AVP_FIFO_HEADER_SIZE));
        if (!h || h->len < 2 || h->len > 4096) return nullptr;
        stride = static_cast<uint32_t>(AVP_FIFO_BYTES(h->len));
    }
    uint8_t* p = phys_to_guest(phys + uint64_t(q) * stride, stride);
    if (!p) return nullptr;
    auto* f = reinterpret_cast<avp_fifo*>(p);
    return fifo_sane(f, stride) ? f : nullptr;
}

std::optional<int32_t> TestGuest::request(avp_request r, int timeout_ms, const std::function<void()>& posted) {
    auto* sync = reinterpret_cast<avp_request*>(phys_to_guest(info_.sync_phys, sizeof(avp_request)));
    avp_fifo* req = fifo(info_.req_phys, 0, 0);
    avp_fifo* resp = fifo(info_.resp_phys, 0, 0);
    if (!sync || !req || !resp) return std::nullopt;
    uint64_t stale;
    while (fifo_get(resp, stale) == 1) {
        // answers to requests we gave up on
    }
    r.result = 1;  // the host always overwrites it
    std::memcpy(sync, &r, sizeof(r));
    std::atomic_thread_fence(std::memory_order_release);
    if (!fifo_put(req, info_.sync_va)) return std::nullopt;
    if (posted) posted();
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < end) {
        uint64_t v;
        if (fifo_get(resp, v) == 1) {
            if (v != info_.sync_va) return std::nullopt;
            int32_t result;  // unaligned field: plain copy after the acquire above
            std::memcpy(&result, reinterpret_cast<uint8_t*>(sync) + offsetof(avp_request, result), sizeof(result));
            return result;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return std::nullopt;
}

void TestGuest::post_raw_request(uint64_t va) {
    if (avp_fifo* req = fifo(info_.req_phys, 0, 0)) fifo_put(req, va);
}

std::optional<int32_t> TestGuest::configure(bool up, uint16_t txq, uint16_t rxq, uint32_t features) {
    avp_request r{};
    r.req_id = AVP_REQ_CFG_DEVICE;
    r.config.device_id = info_.device_id;
    r.config.driver_type = AVP_DRIVER_DPDK;
    r.config.driver_version = AVP_GUEST_VERSION;
    r.config.features = features;
    r.config.num_tx_queues = txq;
    r.config.num_rx_queues = rxq;
    r.config.if_up = up;
    return request(r);
}

std::optional<int32_t> TestGuest::set_mtu(uint32_t mtu) {
    avp_request r{};
    r.req_id = AVP_REQ_CHANGE_MTU;
    r.new_mtu = mtu;
    return request(r);
}

std::optional<int32_t> TestGuest::set_link(uint8_t up) {
    avp_request r{};
    r.req_id = AVP_REQ_CFG_NETWORK_IF;
    r.if_up = up;
    return request(r);
}

std::optional<int32_t> TestGuest::shutdown() {
    avp_request r{};
    r.req_id = AVP_REQ_SHUTDOWN;
    return request(r);
}

bool TestGuest::send(const std::vector<uint8_t>& frame, uint16_t queue, bool vlan, uint16_t tci) {
    avp_fifo* alloc = fifo(info_.alloc_phys, info_.alloc_size, queue);
    avp_fifo* tx = fifo(info_.tx_phys, info_.tx_size, queue);
    if (!alloc || !tx || frame.empty()) return false;
    uint32_t room = info_.mbuf_size;
    size_t need = (frame.size() + room - 1) / room;
    if (need > AVP_MAX_SEGMENTS) return false;
    auto end = Clock::now() + std::chrono::seconds(2);
    while (spare_.size() < need) {
        uint64_t v;
        int got = fifo_get(alloc, v);
        if (got < 0) return false;
        if (got == 1)
            spare_.push_back(v);
        else if (Clock::now() > end)
            return false;
        else
            std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    std::vector<uint64_t> bufs(spare_.end() - need, spare_.end());
    spare_.resize(spare_.size() - need);
    size_t off = 0;
    for (size_t s = 0; s < need; s++) {
        auto* d = reinterpret_cast<avp_desc*>(va_to_guest(bufs[s], sizeof(avp_desc)));
        if (!d) return false;
        uint8_t* data = va_to_guest(d->data, room);
        if (!data) return false;
        size_t n = std::min<size_t>(room, frame.size() - off);
        std::memcpy(data, frame.data() + off, n);
        off += n;
        d->data_len = static_cast<uint16_t>(n);
        d->next = s + 1 < need ? bufs[s + 1] : 0;
        d->nb_segs = s == 0 ? static_cast<uint8_t>(need) : 1;
        d->pkt_len = s == 0 ? static_cast<uint16_t>(frame.size()) : 0;
        d->ol_flags = (s == 0 && vlan) ? AVP_TX_VLAN_PKT : 0;
        d->vlan_tci = (s == 0 && vlan) ? tci : 0;
    }
    if (mangle_) mangle_(reinterpret_cast<avp_desc*>(va_to_guest(bufs[0], sizeof(avp_desc))), bufs[0]);
    std::atomic_thread_fence(std::memory_order_release);
    while (!fifo_put(tx, bufs[0])) {
        if (Clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
}

bool TestGuest::send_mangled(const std::vector<uint8_t>& frame, void (*mangle)(avp_desc*, uint64_t)) {
    mangle_ = mangle;
    bool ok = send(frame);
    mangle_ = nullptr;
    return ok;
}

void TestGuest::post_raw_tx(uint64_t va) {
    if (avp_fifo* tx = fifo(info_.tx_phys, info_.tx_size, 0)) fifo_put(tx, va);
}

void TestGuest::post_raw_free(uint64_t va) {
    if (avp_fifo* fr = fifo(info_.free_phys, info_.free_size, 0)) fifo_put(fr, va);
}

std::optional<RxFrame> TestGuest::receive(int timeout_ms, uint16_t queue) {
    avp_fifo* rx = fifo(info_.rx_phys, info_.rx_size, queue);
    avp_fifo* fr = fifo(info_.free_phys, info_.free_size, queue);
    if (!rx || !fr) return std::nullopt;
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    uint64_t head;
    for (;;) {
        int got = fifo_get(rx, head);
        if (got < 0) return std::nullopt;
        if (got == 1) break;
        if (Clock::now() > end) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    RxFrame f;
    auto* d = reinterpret_cast<avp_desc*>(va_to_guest(head, sizeof(avp_desc)));
    if (!d) return std::nullopt;
    uint32_t nb = d->nb_segs, pkt_len = d->pkt_len;
    f.ol_flags = d->ol_flags;
    f.vlan_tci = d->vlan_tci;
    uint64_t va = head;
    for (uint32_t s = 0; s < nb && s < AVP_MAX_SEGMENTS; s++) {
        auto* sd = reinterpret_cast<avp_desc*>(va_to_guest(va, sizeof(avp_desc)));
        if (!sd) break;
        uint8_t* data = va_to_guest(sd->data, sd->data_len);
        if (!data || sd->data_len > info_.mbuf_size) break;
        f.bytes.insert(f.bytes.end(), data, data + sd->data_len);
        f.segments++;
        va = sd->next;
    }
    fifo_put(fr, head);
    if (f.segments != nb || f.bytes.size() != pkt_len) return std::nullopt;
    return f;
}

Bad TestGuest::receive_checked(int timeout_ms, uint16_t queue) {
    avp_fifo* rx = fifo(info_.rx_phys, info_.rx_size, queue);
    avp_fifo* fr = fifo(info_.free_phys, info_.free_size, queue);
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    uint64_t head;
    for (;;) {
        int got = fifo_get(rx, head);
        if (got < 0) return Bad::FifoIndex;
        if (got == 1) break;
        if (Clock::now() > end) return Bad::None;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    auto* d = reinterpret_cast<avp_desc*>(va_to_guest(head, sizeof(avp_desc)));
    if (!d) return Bad::SlotAddress;
    Bad verdict = Bad::None;
    uint32_t nb = d->nb_segs, sum = 0;
    std::set<uint64_t> seen;
    uint64_t va = head;
    if (nb == 0 || nb > AVP_MAX_SEGMENTS) verdict = Bad::NbSegs;
    for (uint32_t s = 0; verdict == Bad::None && s < nb; s++) {
        if (!seen.insert(va).second) {
            verdict = Bad::ChainLoop;
            break;
        }
        auto* sd = reinterpret_cast<avp_desc*>(va_to_guest(va, sizeof(avp_desc)));
        if (!sd) {
            verdict = Bad::NextAddress;
            break;
        }
        if (sd->data_len > info_.mbuf_size) {
            verdict = Bad::Length;
            break;
        }
        if (!va_to_guest(sd->data, sd->data_len)) {
            verdict = Bad::DataAddress;
            break;
        }
        sum += sd->data_len;
        va = sd->next;
        if (s + 1 < nb && va == 0) verdict = Bad::NbSegs;
    }
    if (verdict == Bad::None && sum != d->pkt_len) verdict = Bad::Length;
    fifo_put(fr, head);
    return verdict;
}

Bad TestGuest::take_alloc_checked(avp_desc* out, int timeout_ms, uint16_t queue) {
    avp_fifo* alloc = fifo(info_.alloc_phys, info_.alloc_size, queue);
    if (!alloc) return Bad::FifoIndex;
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    uint64_t va;
    for (;;) {
        int got = fifo_get(alloc, va);
        if (got < 0) return Bad::FifoIndex;
        if (got == 1) break;
        if (Clock::now() > end) return Bad::Empty;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    auto* d = reinterpret_cast<avp_desc*>(va_to_guest(va, sizeof(avp_desc)));
    if (!d) return Bad::SlotAddress;
    if (out) std::memcpy(static_cast<void*>(out), d, sizeof(*d));
    if (!va_to_guest(d->data, 1)) return Bad::DataAddress;
    if (!va_to_guest(d->data, info_.mbuf_size)) return Bad::Length;
    spare_.push_back(va);
    return Bad::None;
}

Bad TestGuest::check_free_index(uint16_t queue) const {
    avp_fifo* fr = fifo(info_.free_phys, info_.free_size, queue);
    if (!fr) return Bad::FifoIndex;
    return idx(fr->read).load(std::memory_order_acquire) >= fr->len ? Bad::FifoIndex : Bad::None;
}

avp_irq_area* TestGuest::irq() const {
    if (!header_ || header_->irq_offset == 0) return nullptr;
    uint64_t off = header_->irq_offset, size = header_->irq_size, total = header_->total_size;
    if (size < sizeof(avp_irq_area) || off > total || size > total - off || off % 4096) return nullptr;
    auto* a = reinterpret_cast<avp_irq_area*>(reinterpret_cast<uint8_t*>(header_) + off);
    if (__atomic_load_n(&a->magic, __ATOMIC_ACQUIRE) != AVP_IRQ_MAGIC || a->nb_vectors > AVP_IRQ_MAX_VECTORS)
        return nullptr;
    return a;
}

uint32_t TestGuest::migration_status() const {
    return __atomic_load_n(&regs_[AVP_REG_MIGRATION_STATUS / 4], __ATOMIC_ACQUIRE);
}

void TestGuest::ack(uint32_t state) { __atomic_store_n(&regs_[AVP_REG_MIGRATION_ACK / 4], state, __ATOMIC_RELEASE); }

bool TestGuest::wait_status(uint32_t want, int timeout_ms) const {
    auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (migration_status() != want) {
        if (Clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

uint32_t TestGuest::rx_write_index(uint16_t queue) const {
    auto* p = phys_to_guest(info_.rx_phys + uint64_t(queue) * info_.rx_size, 16);
    return p ? __atomic_load_n(&reinterpret_cast<avp_fifo*>(p)->write, __ATOMIC_ACQUIRE) : ~0u;
}

std::vector<uint8_t> make_frame(size_t len, uint32_t seq, const uint8_t* dst, const uint8_t* src) {
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t dflt_src[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::vector<uint8_t> f(len);
    std::memcpy(f.data(), dst ? dst : bcast, 6);
    std::memcpy(f.data() + 6, src ? src : dflt_src, 6);
    f[12] = 0x88;
    f[13] = 0xb5;  // local experimental ethertype
    for (size_t i = 14; i < len; i++) f[i] = static_cast<uint8_t>(seq * 31 + i * 7);
    if (len >= 18) std::memcpy(f.data() + 14, &seq, 4);
    return f;
}

}  // namespace avptest
