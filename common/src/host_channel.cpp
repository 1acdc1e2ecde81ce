#include "gsdk/host_channel.h"

#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"
#include "gsdk/unix_socket.h"

namespace gsdk {

namespace {
constexpr std::size_t kMaxOutput = 1 << 20;
constexpr std::size_t kReadChunk = 32 * 1024;  // a port moves at most 32 KiB per call
constexpr Millis kMinRetry{25};
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
      retry_timer_(loop, [this] {
          if (address_.kind == ChannelAddress::Kind::Device && conn_fd_ >= 0)
              probe_peer();
          else if (address_.kind == ChannelAddress::Kind::Listen)
              try_listen();
          else
              try_open();
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
    close_connection();
    accept_watch_.reset();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        unlink(address_.path.c_str());
        listen_fd_ = -1;
    }
}

void HostChannel::schedule_retry() {
    if (stopped_) return;
    retry_timer_.start(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, max_retry_);
}

void HostChannel::try_open() {
    int fd;
    if (address_.kind == ChannelAddress::Kind::Device) {
        fd = ::open(address_.path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) fd = -errno;
    } else {
        fd = unix_stream_connect(address_.path);
    }
    if (fd < 0) {
        int err = -fd;
        if (err != last_open_errno_) {
            // EBUSY: another process owns the port; ENOENT: the port or VM is not there yet.
            LOG_WARN("cannot open %s: %s (retrying)", address_.describe().c_str(), std::strerror(err));
            last_open_errno_ = err;
        }
        schedule_retry();
        return;
    }
    last_open_errno_ = 0;
    conn_fd_ = fd;
    read_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { readable(); });
    write_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_WRITE, [this](short) { writable(); });
    if (address_.kind == ChannelAddress::Kind::Device) {
        // The port opens whether or not a host is connected: find out by POLLOUT.
        retry_delay_ = kMinRetry;
        probe_peer();
    } else {
        became_connected();
    }
}

void HostChannel::probe_peer() {
    pollfd p{conn_fd_, POLLOUT, 0};
    int n = ::poll(&p, 1, 0);
    if (n > 0 && (p.revents & POLLOUT)) {
        became_connected();
        return;
    }
    schedule_retry();
}

void HostChannel::try_listen() {
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

void HostChannel::accept_ready() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EINTR)
            LOG_WARN("accept on %s: %s", address_.path.c_str(), std::strerror(errno));
        return;
    }
    // Like QEMU's chardev: one host at a time; others wait in the backlog.
    accept_watch_->disable();
    conn_fd_ = fd;
    read_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { readable(); });
    write_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_WRITE, [this](short) { writable(); });
    became_connected();
}

void HostChannel::became_connected() {
    peer_present_ = true;
    retry_delay_ = kMinRetry;
    splitter_.reset();
    read_watch_->enable();
    if (!output_.empty()) write_watch_->enable();
    if (address_.kind == ChannelAddress::Kind::Connect)
        LOG_INFO("connected to %s", address_.describe().c_str());
    else
        LOG_INFO("host connected on %s", address_.describe().c_str());
    if (callbacks_.connected) callbacks_.connected();
}

void HostChannel::readable() {
    char buf[kReadChunk];
    for (int rounds = 0; rounds < 16 && conn_fd_ >= 0; ++rounds) {
        ssize_t n = ::read(conn_fd_, buf, sizeof buf);
        if (n > 0) {
            splitter_.feed(
                std::string_view(buf, static_cast<std::size_t>(n)),
                [this](std::string_view line) {
                    if (callbacks_.line) callbacks_.line(line);
                },
                [this](std::size_t bytes) {
                    LOG_WARN("dropped an oversized line of %zu bytes from %s (limit %zu)", bytes,
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
    writable();
    return 0;
}

void HostChannel::writable() {
    while (!output_.empty() && conn_fd_ >= 0) {
        std::size_t chunk = std::min(output_.size(), kReadChunk);
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
        ::shutdown(conn_fd_, SHUT_RDWR);
        ::close(conn_fd_);
    }
    conn_fd_ = -1;
    peer_present_ = false;
    splitter_.reset();
}

void HostChannel::lost(const std::string& cause) {
    bool was_connected = peer_present_;
    std::size_t unsent = output_.size();
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
            if (accept_watch_) accept_watch_->enable();
        } else {
            retry_delay_ = kMinRetry;
            schedule_retry();
        }
    }
    if (was_connected) {
        if (unsent) LOG_WARN("%zu unsent bytes to the host dropped", unsent);
        LOG_INFO("%s disconnected from %s: %s", address_.kind == ChannelAddress::Kind::Connect ? "peer" : "host",
                 address_.describe().c_str(), cause.c_str());
        if (callbacks_.disconnected) callbacks_.disconnected(cause);
    }
}

}  // namespace gsdk
