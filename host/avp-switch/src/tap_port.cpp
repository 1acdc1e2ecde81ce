#include "tap_port.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace avpsw {

namespace {

// One byte more than the largest frame, so that an oversize read shows.
constexpr uint32_t kFrameRoom = AVP_MAX_FRAME + 1;
// An idle TAP is looked at every few passes: an empty read is a system call
// the AVP ports of the domain would otherwise pay for on every pass.
constexpr uint32_t kIdleSkips = 3;

bool configure_link(const TapConfig& cfg, std::string& error) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    ifreq r{};
    std::strncpy(r.ifr_name, cfg.ifname.c_str(), IFNAMSIZ - 1);
    r.ifr_mtu = static_cast<int>(cfg.mtu);
    bool ok = ::ioctl(s, SIOCSIFMTU, &r) == 0;
    if (!ok) error = "cannot set MTU " + std::to_string(cfg.mtu) + ": " + std::strerror(errno);
    if (ok && ::ioctl(s, SIOCGIFFLAGS, &r) == 0) {
        r.ifr_flags |= IFF_UP;
        ok = ::ioctl(s, SIOCSIFFLAGS, &r) == 0;
        if (!ok) error = std::string("cannot bring the interface up: ") + std::strerror(errno);
    }
    ::close(s);
    return ok;
}

}  // namespace

std::unique_ptr<TapPort> TapPort::create(const TapConfig& cfg, std::string& error) {
    std::unique_ptr<TapPort> t(new TapPort(cfg));
    t->fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd_ < 0) {
        error = std::string("/dev/net/tun: ") + std::strerror(errno);
        return nullptr;
    }
    ifreq r{};
    r.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(r.ifr_name, cfg.ifname.c_str(), IFNAMSIZ - 1);
    if (::ioctl(t->fd_, TUNSETIFF, &r) != 0) {
        error = "cannot create TAP " + cfg.ifname + ": " + std::strerror(errno) +
                (errno == EPERM ? " (needs CAP_NET_ADMIN)" : "");
        return nullptr;
    }
    if (!configure_link(cfg, error)) {
        error = "TAP " + cfg.ifname + ": " + error;
        return nullptr;
    }
    t->bufs_.resize(size_t(kBurst) * kFrameRoom);
    return t;
}

TapPort::~TapPort() {
    if (fd_ >= 0) ::close(fd_);  // not persistent: the interface goes with it
}

uint32_t TapPort::receive_burst(Frame* out, uint32_t max) {
    if (idle_skips_) {
        idle_skips_--;
        return 0;
    }
    if (max > kBurst) max = kBurst;
    uint32_t n = 0;
    uint64_t bytes = 0;
    for (uint32_t k = 0; k < max; k++) {
        uint8_t* b = bufs_.data() + size_t(n) * kFrameRoom;
        ssize_t len = ::read(fd_, b, kFrameRoom);
        if (len < 0) break;  // EAGAIN: drained (other errors: tried again next time)
        if (len < 14 || len > AVP_MAX_FRAME) {
            bump(counters.rx_errors);
            continue;
        }
        Frame& f = out[n++];
        f.nseg = 1;
        f.seg[0] = b;
        f.len[0] = static_cast<uint16_t>(len);
        f.pkt_len = static_cast<uint32_t>(len);
        f.ol_flags = 0;
        f.vlan_tci = 0;
        f.nbuf = 0;  // our own memory: nothing to release
        bytes += static_cast<uint64_t>(len);
    }
    if (n == 0) {
        idle_skips_ = kIdleSkips;
        return 0;
    }
    bump(counters.rx_packets, n);
    bump(counters.rx_bytes, bytes);
    return n;
}

void TapPort::stage(const Frame& f) {
    // A tag the guest asked the device to insert goes into the bytes: the
    // host stack sees the frame as it would on a wire.
    bool insert = f.ol_flags & AVP_TX_VLAN_PKT;
    uint32_t len = f.pkt_len + (insert ? 4 : 0);
    if (len > cfg_.mtu + 18u) {  // MTU + Ethernet header + one tag
        bump(counters.tx_errors);
        return;
    }
    iovec iov[AVP_MAX_SEGMENTS + 2];
    int n = 0;
    uint8_t tag[4] = {0x81, 0x00, uint8_t(f.vlan_tci >> 8), uint8_t(f.vlan_tci)};
    for (uint32_t s = 0; s < f.nseg; s++) {
        if (s == 0 && insert) {
            iov[n++] = {const_cast<uint8_t*>(f.seg[0]), 12};
            iov[n++] = {tag, 4};
            iov[n++] = {const_cast<uint8_t*>(f.seg[0] + 12), f.len[0] - 12u};
        } else {
            iov[n++] = {const_cast<uint8_t*>(f.seg[s]), f.len[s]};
        }
    }
    ssize_t w = ::writev(fd_, iov, n);
    if (w != static_cast<ssize_t>(len)) {
        bump(counters.tx_drops);  // EAGAIN: the stack's backlog is full
        return;
    }
    bump(counters.tx_packets);
    bump(counters.tx_bytes, len);
}

}  // namespace avpsw
