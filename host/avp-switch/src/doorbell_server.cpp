#include "doorbell_server.hpp"

#include <endian.h>
#include <event2/event.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "control_socket.hpp"

namespace avpsw {

namespace {

constexpr int64_t kProtocolVersion = 0;
constexpr int64_t kMaxPeerId = 65535;  // QEMU's doorbell register holds 16 bits

// One protocol message: a little-endian int64, with `fd` attached unless -1.
bool send_message(int sock, int64_t value, int fd) {
    int64_t le = static_cast<int64_t>(htole64(static_cast<uint64_t>(value)));
    iovec iov{&le, sizeof(le)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n == static_cast<ssize_t>(sizeof(le))) return true;
        if (n < 0 && errno == EINTR) continue;
        return false;  // EAGAIN included: a fresh socket that cannot take 100 bytes is not a QEMU
    }
}

void close_all(std::vector<int>& fds) {
    for (int fd : fds)
        if (fd >= 0) ::close(fd);
    fds.clear();
}

}  // namespace

DoorbellServer::DoorbellServer(gsdk::EventLoop& loop, Port& port, std::function<uint64_t()> passes,
                               std::function<void()> ctrl_rung)
    : loop_(loop), port_(port), passes_(std::move(passes)), ctrl_rung_(std::move(ctrl_rung)),
      reaper_(loop, [this] { close_retired(); }) {
    if (port_.ctrl_ring_fd() < 0) return;
    ctrl_ring_watch_ = std::make_unique<gsdk::FdWatch>(loop_, port_.ctrl_ring_fd(), EV_READ, [this](short) {
        port_.take_ctrl_ring();
        ctrl_ring_watch_->disable();
        ctrl_rung_();
    });
    ctrl_ring_watch_->enable();
}

void DoorbellServer::rearm_ctrl_ring() {
    if (ctrl_ring_watch_ && !ctrl_ring_watch_->enabled()) ctrl_ring_watch_->enable();
}

DoorbellServer::~DoorbellServer() {
    port_.clear_irq_fds();  // the forwarding threads are stopped before this runs
    client_watch_.reset();
    if (client_fd_ >= 0) ::close(client_fd_);
    close_all(eventfds_);
    for (auto& r : retired_) close_all(r.fds);
    acceptor_.reset();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(port_.config().doorbell.c_str());
    }
}

std::string DoorbellServer::listen() {
    std::string err;
    listen_fd_ = unix_listen_exclusive(port_.config().doorbell, 0600, err);
    if (listen_fd_ < 0) return "doorbell " + err;
    acceptor_ = std::make_unique<Acceptor>(loop_, listen_fd_, "port " + port_.name() + " doorbell",
                                           [this](int fd) { accepted(fd); });
    return {};
}

void DoorbellServer::accepted(int fd) {
    uid_t uid = 0;
    pid_t pid = 0;
    const char* name = port_.name().c_str();
    if (!peer_allowed(fd, &uid, &pid)) {
        refused_++;
        gsdk::ratelimited_logf(log_, "", gsdk::LogLevel::Warning,
                               "port %s doorbell: refused pid %d uid %u: only root or uid %u may connect", name,
                               static_cast<int>(pid), static_cast<unsigned>(uid), static_cast<unsigned>(::geteuid()));
        ::close(fd);
        return;
    }
    if (client_fd_ >= 0) {
        refused_++;
        gsdk::ratelimited_logf(log_, "", gsdk::LogLevel::Warning,
                               "port %s doorbell: refused a second QEMU (pid %d) while pid %d is connected", name,
                               static_cast<int>(pid), static_cast<int>(client_pid_));
        ::close(fd);
        return;
    }
    int64_t id = next_id_;
    next_id_ = next_id_ == kMaxPeerId ? 1 : next_id_ + 1;
    std::vector<int> fds;
    if (!handshake(fd, id, fds)) {
        gsdk::ratelimited_logf(log_, "", gsdk::LogLevel::Warning, "port %s doorbell: handshake with pid %d failed: %s",
                               name, static_cast<int>(pid), std::strerror(errno));
        close_all(fds);
        ::close(fd);
        return;
    }
    client_fd_ = fd;
    client_pid_ = pid;
    eventfds_ = std::move(fds);
    connections_++;
    client_watch_ = std::make_unique<gsdk::FdWatch>(loop_, fd, EV_READ, [this](short) { client_readable(); });
    client_watch_->enable();
    port_.set_irq_fds(eventfds_);
    LOG_INFO("port %s doorbell: QEMU pid %d connected as peer %lld, %zu vectors", name, static_cast<int>(pid),
             static_cast<long long>(id), eventfds_.size());
}

bool DoorbellServer::handshake(int fd, int64_t id, std::vector<int>& eventfds) {
    for (uint32_t v = 0; v < port_.irq_vectors(); v++) {
        int e = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (e < 0) return false;
        eventfds.push_back(e);
    }
    if (!send_message(fd, kProtocolVersion, -1) || !send_message(fd, id, -1) ||
        !send_message(fd, -1, port_.region_fd()))
        return false;
    // The one other peer is the switch itself: its vector 0 is how a guest
    // wakes a forwarding thread that sleeps (avp_irq_area.wake_doorbell),
    // its vector 1 how it has a control request served (ctrl_doorbell).
    if (port_.wake_fd() >= 0 && !send_message(fd, kSwitchPeerId, port_.wake_fd())) return false;
    if (port_.ctrl_ring_fd() >= 0 && !send_message(fd, kSwitchPeerId, port_.ctrl_ring_fd())) return false;
    for (int e : eventfds)
        if (!send_message(fd, id, e)) return false;
    return true;
}

void DoorbellServer::client_readable() {
    // QEMU sends nothing on this socket; whatever comes is read and dropped,
    // a bounded amount per wake-up, until it hangs up.
    char buf[256];
    for (int i = 0; i < 4; i++) {
        ssize_t n = ::recv(client_fd_, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        disconnect(n == 0 ? "hung up" : std::strerror(errno));
        return;
    }
}

void DoorbellServer::disconnect(const char* why) {
    port_.clear_irq_fds();
    client_watch_.reset();
    ::close(client_fd_);
    client_fd_ = -1;
    LOG_INFO("port %s doorbell: QEMU pid %d %s", port_.name().c_str(), static_cast<int>(client_pid_), why);
    client_pid_ = 0;
    retired_.push_back({std::move(eventfds_), passes_() + 2});
    eventfds_.clear();
    reaper_.start(gsdk::Millis(1));
}

void DoorbellServer::close_retired() {
    uint64_t now = passes_();
    for (size_t i = 0; i < retired_.size();) {
        if (now >= retired_[i].after_pass) {
            close_all(retired_[i].fds);
            retired_.erase(retired_.begin() + static_cast<long>(i));
        } else {
            i++;
        }
    }
    if (!retired_.empty()) reaper_.start(gsdk::Millis(1));
}

}  // namespace avpsw
