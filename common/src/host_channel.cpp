#include "gsdk/host_channel.h"

#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"
#include "gsdk/unix_socket.h"

namespace gsdk {

namespace {
constexpr std::size_t kMaxOutput = 1 << 20;
constexpr std::size_t kReadChunk = 32 * 1024;  // a port moves at most 32 KiB per call
constexpr std::size_t kWriteBatch = kReadChunk;
constexpr Millis kMinRetry{25};
constexpr Millis kMinAcceptRetry{100};
constexpr Millis kMaxAcceptRetry{2000};

int64_t remaining_ms(Clock::time_point deadline) {
    return std::max<int64_t>(0, std::chrono::duration_cast<Millis>(deadline - Clock::now()).count());
}
}  // namespace

std::optional<ChannelAddress> ChannelAddress::parse(std::string_view spec, bool connect_unix) {
    ChannelAddress a;
    if (spec.rfind("unix:", 0) == 0) {
        a.kind = connect_unix ? Kind::Connect : Kind::Listen;
        a.path = std::string(spec.substr(5));
    } else {
        a.kind = Kind::Device;
        a.path = std::string(spec);
    }
    if (a.path.empty()) return std::nullopt;
    if (a.kind != Kind::Device && a.path.size() >= sizeof(sockaddr_un::sun_path)) return std::nullopt;
    return a;
}

std::string ChannelAddress::describe() const {
    switch (kind) {
    case Kind::Device:
        return "port " + path;
    case Kind::Listen:
        return "listening socket " + path;
    case Kind::Connect:
        return "socket " + path;
    }
    return path;
}

HostChannel::HostChannel(EventLoop& loop, ChannelAddress address, Callbacks callbacks, std::size_t max_line)
    : loop_(loop), address_(std::move(address)), callbacks_(std::move(callbacks)), splitter_(max_line),
      retry_timer_(loop,
                   [this] {
                       if (address_.kind == ChannelAddress::Kind::Device && conn_fd_ >= 0)
                           probe_peer();
                       else if (address_.kind == ChannelAddress::Kind::Listen && listen_fd_ >= 0)
                           accept_ready();  // after a back-off for want of descriptors
                       else if (address_.kind == ChannelAddress::Kind::Listen)
                           try_listen();
                       else
                           try_open();
                   }),
      flush_timer_(loop, [this] {
          if (conn_fd_ >= 0 && peer_present_ && !connecting_) writable();
      }) {}

HostChannel::~HostChannel() { stop(); }

void HostChannel::start() {
    stopped_ = false;
    retry_delay_ = kMinRetry;
    if (address_.kind == ChannelAddress::Kind::Listen)
        try_listen();
    else
        try_open();
}

void HostChannel::stop() {
    stopped_ = true;
    retry_timer_.stop();
    flush_timer_.stop();
    flush_before_close();
    close_connection();
    accept_watch_.reset();
    accept_paused_ = false;
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        if (::unlink(address_.path.c_str()) < 0 && errno != ENOENT)
            LOG_WARN("cannot remove %s: %s", address_.path.c_str(), std::strerror(errno));
        listen_fd_ = -1;
    }
}

void HostChannel::flush_before_close() {
    // The last thing queued is often a goodbye (heartbeat "exit") that tells
    // the host not to declare a loss: give the peer a bounded time to take
    // it. This is the only wait in the channel, and only on the way out.
    if (conn_fd_ < 0 || !peer_present_ || connecting_ || output_.empty() || stop_flush_.count() <= 0) return;
    auto deadline = Clock::now() + stop_flush_;
    while (!output_.empty() && conn_fd_ >= 0) {
        pollfd p{conn_fd_, POLLOUT, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(remaining_ms(deadline), 100)));
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && (p.revents & POLLOUT)) {
            std::size_t chunk = std::min(output_.size(), kReadChunk);
            ++counters_.writes;
            ssize_t w = address_.kind == ChannelAddress::Kind::Device
                            ? ::write(conn_fd_, output_.data(), chunk)
                            : ::send(conn_fd_, output_.data(), chunk, MSG_NOSIGNAL);
            if (w > 0)
                output_.erase(0, static_cast<std::size_t>(w));
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                break;
        } else if (n > 0 && (p.revents & (POLLHUP | POLLERR))) {
            break;
        }
        if (Clock::now() >= deadline) break;
    }
    if (!output_.empty())
        LOG_WARN("%s: %zu bytes not taken by the peer within %lld ms; dropped at close", address_.describe().c_str(),
                 output_.size(), static_cast<long long>(stop_flush_.count()));
    output_.clear();
}

void HostChannel::schedule_retry() {
    if (stopped_) return;
    retry_timer_.start(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, max_retry_);
}

void HostChannel::try_open() {
    ++counters_.open_attempts;
    int fd;
    bool in_progress = false;
    if (address_.kind == ChannelAddress::Kind::Device) {
        fd = ::open(address_.path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) fd = -errno;
    } else {
        // Never a blocking connect: a stopped QEMU leaves its backlog full.
        fd = unix_stream_connect_nonblocking(address_.path, &in_progress);
    }
    if (fd < 0) {
        int err = -fd;
        if (err != last_open_errno_) {
            // EBUSY: another process owns the port; ENOENT: the port or VM is
            // not there yet; EAGAIN: the VM's process is not accepting.
            LOG_WARN("cannot open %s: %s (retrying)%s", address_.describe().c_str(), std::strerror(err),
                     err == EAGAIN ? " (backlog full: is the VM's process stopped?)" : "");
            last_open_errno_ = err;
        }
        schedule_retry();
        return;
    }
    last_open_errno_ = 0;
    watch_connection(fd);
    if (address_.kind == ChannelAddress::Kind::Device) {
        // The port opens whether or not a host is connected: find out by POLLOUT.
        retry_delay_ = kMinRetry;
        probe_peer();
    } else if (in_progress) {
        connecting_ = true;
        write_watch_->enable();
    } else {
        became_connected();
    }
}

void HostChannel::watch_connection(int fd) {
    conn_fd_ = fd;
    read_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { readable(); });
    write_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_WRITE, [this](short) { writable(); });
}

void HostChannel::connect_finished() {
    connecting_ = false;
    write_watch_->disable();
    if (int err = socket_error(conn_fd_); err < 0) {
        LOG_RATELIMITED(LogLevel::Warning, address_.path, "cannot connect to %s: %s (retrying)",
                        address_.describe().c_str(), std::strerror(-err));
        close_connection();
        schedule_retry();
        return;
    }
    became_connected();
}

void HostChannel::probe_peer() {
    ++counters_.probes;
    // A host is there when the port is writable and not hung up: a virtio
    // port without a host reports POLLHUP (and a hung-up tty reports
    // POLLOUT along with it).
    pollfd p{conn_fd_, POLLOUT, 0};
    int n = ::poll(&p, 1, 0);
    if (n > 0 && (p.revents & POLLOUT) && !(p.revents & (POLLHUP | POLLERR))) {
        became_connected();
        return;
    }
    schedule_retry();
}

void HostChannel::try_listen() {
    ++counters_.open_attempts;
    int fd = unix_stream_listen(address_.path);
    if (fd < 0) {
        if (-fd != last_open_errno_) {
            LOG_ERROR("cannot listen on %s: %s (retrying)", address_.path.c_str(), std::strerror(-fd));
            last_open_errno_ = -fd;
        }
        schedule_retry();
        return;
    }
    last_open_errno_ = 0;
    listen_fd_ = fd;
    accept_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { accept_ready(); });
    accept_watch_->enable();
}

void HostChannel::accept_backoff(int err) {
    // The pending connection keeps the socket readable: retrying at once
    // would spin. Stop watching and try again after a growing pause.
    LOG_RATELIMITED(LogLevel::Error, address_.path, "cannot accept the host on %s: %s (retrying in %lld ms)",
                    address_.path.c_str(), std::strerror(err), static_cast<long long>(accept_retry_.count()));
    accept_watch_->disable();
    accept_paused_ = true;
    if (!stopped_) retry_timer_.start(accept_retry_);
    accept_retry_ = std::min(accept_retry_ * 2, kMaxAcceptRetry);
}

void HostChannel::accept_ready() {
    if (listen_fd_ < 0 || conn_fd_ >= 0) return;
    ++counters_.accept_attempts;
    accept_paused_ = false;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            accept_backoff(err);
            return;
        }
        accept_watch_->enable();
        if (err != EAGAIN && err != EINTR && err != ECONNABORTED)
            LOG_RATELIMITED(LogLevel::Warning, address_.path, "accept on %s: %s", address_.path.c_str(),
                            std::strerror(err));
        return;
    }
    accept_retry_ = kMinAcceptRetry;
    // Like QEMU's chardev: one host at a time; others wait in the backlog.
    accept_watch_->disable();
    watch_connection(fd);
    became_connected();
}

void HostChannel::became_connected() {
    peer_present_ = true;
    retry_delay_ = kMinRetry;
    splitter_.reset();
    read_watch_->enable();
    if (!output_.empty()) write_watch_->enable();
    if (address_.kind == ChannelAddress::Kind::Connect)
        LOG_RATELIMITED(LogLevel::Info, address_.path, "connected to %s", address_.describe().c_str());
    else
        LOG_RATELIMITED(LogLevel::Info, address_.path, "host connected on %s", address_.describe().c_str());
    if (callbacks_.connected) callbacks_.connected();
}

void HostChannel::readable() {
    char buf[kReadChunk];
    for (int rounds = 0; rounds < 16 && conn_fd_ >= 0 && peer_present_; ++rounds) {
        ++counters_.reads;
        ssize_t n = ::read(conn_fd_, buf, sizeof buf);
        if (n > 0) {
            splitter_.feed(
                std::string_view(buf, static_cast<std::size_t>(n)),
                [this](std::string_view line) {
                    if (callbacks_.line) callbacks_.line(line);
                },
                [this](std::size_t bytes) {
                    LOG_RATELIMITED(LogLevel::Warning, address_.path,
                                    "dropped an oversized line of %zu bytes from %s (limit %zu)", bytes,
                                    address_.describe().c_str(), kMaxJsonLine);
                });
            continue;
        }
        if (n == 0) {
            lost("host hung up");
            return;
        }
        if (errno == EAGAIN || errno == EINTR) return;
        lost(std::string("read failed: ") + std::strerror(errno));
        return;
    }
}

int HostChannel::send(std::string_view bytes) {
    if (!connected()) return -ENOTCONN;
    if (output_.size() + bytes.size() > kMaxOutput) return -ENOBUFS;
    output_.append(bytes);
    // While connecting, or while the socket is full, the write watch takes it.
    if (connecting_ || write_watch_->enabled()) return 0;
    // Not written at once: a burst of lines (one read from a member, fanned
    // out to many) leaves in one write per peer instead of one per line. At
    // most one write's worth waits, so that what counts as pending for a
    // peer's queue limit is what the peer has not taken, not our batch.
    if (output_.size() >= kWriteBatch) {
        flush_timer_.stop();
        writable();
    } else if (!flush_timer_.pending()) {
        flush_timer_.start(Millis(0));
    }
    return 0;
}

void HostChannel::writable() {
    if (connecting_) {
        connect_finished();
        return;
    }
    while (!output_.empty() && conn_fd_ >= 0) {
        std::size_t chunk = std::min(output_.size(), kReadChunk);
        ++counters_.writes;
        ssize_t n = address_.kind == ChannelAddress::Kind::Device
                        ? ::write(conn_fd_, output_.data(), chunk)
                        : ::send(conn_fd_, output_.data(), chunk, MSG_NOSIGNAL);
        if (n > 0) {
            output_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            write_watch_->enable();
            return;
        }
        lost(std::string("write failed: ") + (n < 0 ? std::strerror(errno) : "no progress"));
        return;
    }
    if (write_watch_) write_watch_->disable();
}

void HostChannel::close_connection() {
    read_watch_.reset();
    write_watch_.reset();
    if (conn_fd_ >= 0) {
        ::shutdown(conn_fd_, SHUT_RDWR);  // fails harmlessly on a port
        ::close(conn_fd_);
    }
    conn_fd_ = -1;
    peer_present_ = false;
    connecting_ = false;
    splitter_.reset();
}

void HostChannel::lost(const std::string& cause) {
    bool was_connected = peer_present_;
    std::size_t unsent = output_.size();
    if (std::size_t partial = splitter_.buffered(); was_connected && partial > 0)
        LOG_RATELIMITED(LogLevel::Warning, address_.path, "a partial line of %zu bytes from %s lost at disconnect",
                        partial, address_.describe().c_str());
    output_.clear();
    if (address_.kind == ChannelAddress::Kind::Device) {
        // Keep the port open (it stays ours; EBUSY for others) and wait for
        // POLLOUT: polling for input would spin on the constant POLLHUP.
        read_watch_->disable();
        write_watch_->disable();
        peer_present_ = false;
        splitter_.reset();
        retry_delay_ = kMinRetry;
        schedule_retry();
    } else {
        close_connection();
        if (address_.kind == ChannelAddress::Kind::Listen) {
            if (accept_watch_ && !accept_paused_) accept_watch_->enable();
        } else {
            retry_delay_ = kMinRetry;
            schedule_retry();
        }
    }
    if (was_connected) {
        if (unsent)
            LOG_RATELIMITED(LogLevel::Warning, address_.path, "%zu unsent bytes to %s dropped", unsent,
                            address_.describe().c_str());
        LOG_RATELIMITED(LogLevel::Info, address_.path, "%s disconnected from %s: %s",
                        address_.kind == ChannelAddress::Kind::Connect ? "peer" : "host", address_.describe().c_str(),
                        cause.c_str());
        if (callbacks_.disconnected) callbacks_.disconnected(cause);
    }
}

}  // namespace gsdk
