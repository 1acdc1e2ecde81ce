#include "gsdk/ipc_client.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "gsdk/unix_socket.h"

namespace gsdk {

namespace {

// Non-blocking even when the daemon's accept backlog is full (a blocking
// connect would wait there, and process() must never block).
int connect_nonblocking(const std::string& path) {
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path) return -ENAMETOOLONG;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    return fd;
}

}  // namespace

IpcClient::IpcClient(Options options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)),
      jitter_seed_(static_cast<unsigned>(reinterpret_cast<uintptr_t>(this) ^ ::getpid() ^ ::time(nullptr))) {}

IpcClient::~IpcClient() {
    close_socket();
    if (timer_fd_ >= 0) ::close(timer_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

int IpcClient::open() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return -errno;
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer_fd_ < 0) return -errno;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = timer_fd_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev) < 0) return -errno;
    return 0;
}

int IpcClient::connect_now() {
    reconnect_at_.reset();
    close_socket();
    int fd = connect_nonblocking(options_.path);
    if (fd < 0) return fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    sock_ = fd;
    ++generation_;
    if (callbacks_.connected) callbacks_.connected();
    return 0;
}

void IpcClient::connect_later() {
    using std::chrono::milliseconds;
    backoff_ = backoff_ == milliseconds(0) ? options_.first_backoff : std::min(backoff_ * 2, options_.max_backoff);
    // Up to a quarter either way.
    long quarter = static_cast<long>(backoff_.count() / 4);
    long jitter = quarter > 0 ? static_cast<long>(::rand_r(&jitter_seed_) % (2 * quarter + 1)) - quarter : 0;
    reconnect_at_ = Clock::now() + backoff_ + milliseconds(jitter);
}

void IpcClient::disconnect() {
    reconnect_at_.reset();
    close_socket();
}

void IpcClient::close_socket() {
    if (sock_ < 0) return;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, sock_, nullptr);
    ::close(sock_);
    sock_ = -1;
    outbox_.clear();
    watching_out_ = false;
}

void IpcClient::lose(const std::string& reason) {
    close_socket();
    if (callbacks_.lost) callbacks_.lost(reason);
}

int IpcClient::send(std::string_view message) {
    if (sock_ < 0) return -ENOTCONN;
    if (message.size() > kMaxIpcMessage) return -EMSGSIZE;
    if (!outbox_.empty()) {
        if (outbox_.size() >= options_.outbox_limit) return -ENOBUFS;
        outbox_.emplace_back(message);
        return 0;
    }
    int rc = seqpacket_send(sock_, message.data(), message.size());
    if (rc == -EAGAIN) {
        outbox_.emplace_back(message);
        watch_out(true);
        return 0;
    }
    // On a hard error the socket also reports the hang-up, and receive()
    // turns it into a lost connection.
    return rc;
}

int IpcClient::send_final(std::string_view message) {
    if (sock_ < 0) return -ENOTCONN;
    flush();
    return seqpacket_send(sock_, message.data(), message.size());
}

void IpcClient::discard_unread() {
    if (sock_ < 0) return;
    char scrap[64];
    while (::recv(sock_, scrap, sizeof scrap, MSG_DONTWAIT | MSG_TRUNC) > 0) {}
}

void IpcClient::flush() {
    while (!outbox_.empty()) {
        int rc = seqpacket_send(sock_, outbox_.front().data(), outbox_.front().size());
        if (rc == -EAGAIN) return;
        outbox_.pop_front();  // sent, or failed for good (the hang-up is seen on receive)
    }
    watch_out(false);
}

void IpcClient::watch_out(bool want) {
    if (watching_out_ == want || sock_ < 0) return;
    epoll_event ev{};
    ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.fd = sock_;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, sock_, &ev) == 0) watching_out_ = want;
}

void IpcClient::receive() {
    static thread_local char buf[kMaxIpcMessage];
    for (int i = 0; i < options_.datagrams_per_process && sock_ >= 0; ++i) {
        int passed = -1;
        long n = seqpacket_receive_with_fd(sock_, buf, sizeof buf, &passed);
        if (n == -EAGAIN || n == -EWOULDBLOCK) return;
        if (n == -EMSGSIZE) {  // larger than any message of ours: dropped whole
            if (callbacks_.dropped)
                callbacks_.dropped("a datagram larger than " + std::to_string(sizeof buf) + " bytes");
            continue;
        }
        if (n == 0) return lose("daemon closed the connection");
        if (n < 0) return lose(std::string("daemon connection failed: ") + std::strerror(static_cast<int>(-n)));
        if (callbacks_.received) callbacks_.received(buf, static_cast<std::size_t>(n), passed);
        if (passed >= 0) ::close(passed);
    }
}

void IpcClient::process() {
    uint64_t expirations;
    while (::read(timer_fd_, &expirations, sizeof expirations) > 0) {}
    if (reconnect_at_ && Clock::now() >= *reconnect_at_) {
        int rc = connect_now();
        if (rc < 0 && !(callbacks_.connect_failed && callbacks_.connect_failed(rc))) connect_later();
    }
    if (sock_ >= 0) flush();
    receive();
}

void IpcClient::arm(std::optional<TimePoint> also) {
    std::optional<TimePoint> at = reconnect_at_;
    if (also && (!at || *also < *at)) at = also;
    itimerspec spec{};
    if (at) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at->time_since_epoch()).count();
        // steady_clock is CLOCK_MONOTONIC; an all-zero value would disarm instead of firing.
        if (ns <= 0) ns = 1;
        spec.it_value.tv_sec = ns / 1000000000;
        spec.it_value.tv_nsec = ns % 1000000000;
    }
    ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

int IpcClient::timeout_ms(std::optional<TimePoint> also) const {
    std::optional<TimePoint> at = also;
    if (reconnect_at_ && (!at || *reconnect_at_ < *at)) at = reconnect_at_;
    if (!at) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*at - std::chrono::steady_clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, INT32_MAX));
}

std::string IpcClient::refused_by_mode_text(const char* daemon, int error) const {
    return "not allowed: uid " + std::to_string(::geteuid()) + " may not reach " + daemon + "'s socket " + path() +
           " (" + std::strerror(-error) + "; see SOCKET_GROUP, ALLOWED_GROUPS, ALLOWED_UIDS)";
}

}  // namespace gsdk
