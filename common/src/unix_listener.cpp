#include "gsdk/unix_listener.h"

#include <event2/event.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"

namespace gsdk {

namespace {
constexpr Millis kFirstAcceptBackoff{50};
constexpr Millis kMaxAcceptBackoff{1000};

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
}  // namespace

UnixListener::UnixListener(EventLoop& loop, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)), backoff_timer_(loop, [this] {
          if (watch_) watch_->enable();
      }) {}

UnixListener::~UnixListener() { shutdown(); }

int UnixListener::listen(const std::string& path, const SocketAccess& access, int socket_type, int backlog) {
    // Bound under a temporary name and renamed into place once its owner and
    // mode are set: nobody ever sees (or connects to) it with others.
    std::string staging = path + ".new";
    int fd = socket_type == SOCK_STREAM ? unix_stream_listen(staging, backlog) : seqpacket_listen(staging, backlog);
    if (fd < 0) return fd;
    std::string step;
    int rc = restrict_socket_file(staging, access, &step);
    if (rc == 0 && ::rename(staging.c_str(), path.c_str()) < 0) {
        rc = -errno;
        step = "rename " + staging + " to " + path;
    }
    if (rc < 0) {
        LOG_ERROR("%s: %s", step.c_str(), std::strerror(-rc));
        ::close(fd);
        ::unlink(staging.c_str());
        return rc;
    }
    reserve_fd_ = open_reserve();
    if (reserve_fd_ < 0)
        LOG_WARN("no reserve descriptor (%s): at the descriptor limit, accepting pauses instead", std::strerror(errno));
    fd_ = fd;
    path_ = path;
    watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { accept_ready(); });
    watch_->enable();
    return 0;
}

void UnixListener::shutdown() {
    watch_.reset();
    backoff_timer_.stop();
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
    reserve_fd_ = -1;
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(path_.c_str());
        fd_ = -1;
    }
}

void UnixListener::accept_ready() {
    for (int rounds = 0; rounds < 64 && fd_ >= 0; ++rounds) {
        int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EMFILE || err == ENFILE) {
                if (!turn_away_one(err)) return;
                continue;
            }
            if (err == ENOBUFS || err == ENOMEM) {
                LOG_RATELIMITED(LogLevel::Error, "accept-memory", "cannot accept a client: %s; pausing",
                                std::strerror(err));
                pause_accepting();
            } else if (err != EAGAIN && err != EINTR && err != ECONNABORTED) {
                LOG_RATELIMITED(LogLevel::Warning, "accept", "accept: %s", std::strerror(err));
            }
            return;
        }
        backoff_ = Millis(0);
        PeerCredentials cred;
        if (int rc = peer_credentials(fd, &cred); rc < 0) {
            // Whoever it is cannot be told apart from anyone else: not served.
            LOG_RATELIMITED(LogLevel::Warning, "peercred", "closed a connection whose credentials are unreadable: %s",
                            std::strerror(-rc));
            ::close(fd);
            continue;
        }
        callbacks_.accepted(fd, std::move(cred));
    }
}

bool UnixListener::turn_away_one(int accept_errno) {
    std::size_t clients = callbacks_.clients ? callbacks_.clients() : 0;
    if (reserve_fd_ < 0) reserve_fd_ = open_reserve();
    if (reserve_fd_ < 0) {
        LOG_RATELIMITED(LogLevel::Error, "descriptor-limit",
                        "cannot accept a client: %s, and no reserve descriptor (descriptor limit reached with %zu "
                        "clients); pausing",
                        std::strerror(accept_errno), clients);
        pause_accepting();
        return false;
    }
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
        reserve_fd_ = open_reserve();
        if (errno == EAGAIN) return false;
        pause_accepting();
        return false;
    }
    PeerCredentials cred;
    peer_credentials(fd, &cred);  // only for the log line; the client is turned away either way
    ::close(fd);
    reserve_fd_ = open_reserve();
    LOG_RATELIMITED(LogLevel::Error, "descriptor-limit",
                    "turned away a client (pid %d, uid %d): %s, descriptor limit reached with %zu clients", cred.pid,
                    cred.uid, std::strerror(accept_errno), clients);
    return true;
}

void UnixListener::pause_accepting() {
    backoff_ = backoff_ == Millis(0) ? kFirstAcceptBackoff : std::min(backoff_ * 2, kMaxAcceptBackoff);
    if (watch_) watch_->disable();
    backoff_timer_.start(backoff_);
}

}  // namespace gsdk
