// avp-switch-loadgen: a deliberately thin guest for measuring the switch.
// It maps a file-profile region, sends fixed-size frames as fast as the
// alloc FIFO allows and returns whatever arrives on rx. It trusts the host
// (unlike a driver) so that the guest side costs as little as possible.
//   avp-switch-loadgen TX_PATH[,RX_PATH] [SECONDS] [FRAME_SIZE]
// With two paths one thread sends on the first device and drains the
// second (a pair seen end to end, without a second spinning thread).
#include <avp/avp_region.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

struct Ring {
    avp_fifo* f;
    uint32_t mask;
    uint32_t get(uint64_t* v, uint32_t n) {
        uint32_t r = f->read, w = __atomic_load_n(&f->write, __ATOMIC_ACQUIRE);
        uint32_t k = 0;
        for (; k < n && r != w; k++, r = (r + 1) & mask) v[k] = f->slot[r];
        __atomic_store_n(&f->read, r, __ATOMIC_RELEASE);
        return k;
    }
    uint32_t put(const uint64_t* v, uint32_t n) {
        uint32_t w = f->write, r = __atomic_load_n(&f->read, __ATOMIC_ACQUIRE);
        uint32_t k = 0;
        for (; k < n && ((w + 1) & mask) != r; k++, w = (w + 1) & mask) f->slot[w] = v[k];
        __atomic_store_n(&f->write, w, __ATOMIC_RELEASE);
        return k;
    }
};

[[noreturn]] void fail(const char* why) {
    std::fprintf(stderr, "avp-switch-loadgen: %s\n", why);
    std::exit(1);
}

struct Device {
    uint8_t* pool = nullptr;
    uint64_t pool_va = 0;
    Ring alloc{}, tx{}, rx{}, fr{};

    explicit Device(const char* path) {
        int fd = ::open(path, O_RDWR);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0) fail("cannot open the region");
        auto* base = static_cast<uint8_t*>(::mmap(nullptr, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        ::close(fd);
        if (base == MAP_FAILED) fail("cannot map the region");
        auto* h = reinterpret_cast<avp_region_header*>(base);
        if (h->magic != AVP_REGION_MAGIC || h->total_size != static_cast<uint64_t>(st.st_size))
            fail("not an AVP region");
        mm_ = reinterpret_cast<avp_memmap*>(base + h->memmap_offset);
        auto* di = reinterpret_cast<avp_device_info*>(base + h->devinfo_offset);
        data_ = base + h->data_offset;
        pool = phys(di->pool[0].phys);
        pool_va = di->pool[0].va;
        alloc = ring(di->alloc_phys);
        tx = ring(di->tx_phys);
        rx = ring(di->rx_phys);
        fr = ring(di->free_phys);
        Ring req = ring(di->req_phys), resp = ring(di->resp_phys);
        // Configure the device up, as a driver would.
        auto* sync = reinterpret_cast<avp_request*>(phys(di->sync_phys));
        avp_request r{};
        r.req_id = AVP_REQ_CFG_DEVICE;
        r.config.device_id = di->device_id;
        r.config.driver_type = AVP_DRIVER_DPDK;
        r.config.driver_version = AVP_GUEST_VERSION;
        r.config.num_tx_queues = r.config.num_rx_queues = 1;
        r.config.if_up = 1;
        std::memcpy(sync, &r, sizeof(r));
        uint64_t sva = di->sync_va, got;
        req.put(&sva, 1);
        for (int i = 0; i < 2000 && resp.get(&got, 1) == 0; i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

private:
    uint8_t* phys(uint64_t p) {
        uint64_t off = 0;
        for (uint32_t i = 0; i < mm_->count && i < AVP_MEMMAP_MAX; i++) {
            const avp_memmap_entry& e = mm_->entry[i];
            if (p >= e.host_phys && p - e.host_phys < e.length) return data_ + off + (p - e.host_phys);
            off += e.length;
        }
        fail("address outside the memory map");
    }
    Ring ring(uint64_t p) {
        auto* f = reinterpret_cast<avp_fifo*>(phys(p));
        return Ring{f, f->len - 1};
    }
    avp_memmap* mm_ = nullptr;
    uint8_t* data_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) fail("usage: avp-switch-loadgen TX_PATH[,RX_PATH] [SECONDS] [FRAME_SIZE]");
    int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
    uint16_t size = static_cast<uint16_t>(argc > 3 ? std::atoi(argv[3]) : 64);
    if (size < 14 || size > 1984) fail("frame size must be 14..1984");
    std::string paths = argv[1];
    auto comma = paths.find(',');
    Device out(paths.substr(0, comma).c_str());
    std::unique_ptr<Device> other;
    if (comma != std::string::npos) other = std::make_unique<Device>(paths.substr(comma + 1).c_str());
    Device& in = other ? *other : out;

    uint8_t frame[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};
    uint64_t sent = 0, received = 0, v[32];
    auto t0 = std::chrono::steady_clock::now();
    auto end = t0 + std::chrono::seconds(seconds);
    for (uint64_t it = 0;; it++) {
        uint32_t n = out.alloc.get(v, 32);
        for (uint32_t i = 0; i < n; i++) {
            auto* d = reinterpret_cast<avp_desc*>(out.pool + (v[i] - out.pool_va));
            std::memcpy(out.pool + (d->data - out.pool_va), frame, sizeof(frame));
            d->data_len = size;
            d->pkt_len = size;
            d->nb_segs = 1;
            d->next = 0;
        }
        // Every buffer taken must go back to the host, or its pool drains.
        for (uint32_t done = 0; done < n;) done += out.tx.put(v + done, n - done);
        sent += n;
        uint32_t m = in.rx.get(v, 32);
        received += m;
        for (uint32_t done = 0; done < m;) done += in.fr.put(v + done, m - done);
        if ((it & 1023) == 0 && std::chrono::steady_clock::now() >= end) break;
    }
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("loadgen: %d-byte frames, sent %.2f Mpps, received %.2f Mpps over %.1f s\n", size, sent / dt / 1e6,
                received / dt / 1e6, dt);
    return 0;
}
