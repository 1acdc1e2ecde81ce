#include "gsdk/ipc_server.h"

#include <event2/event.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"

namespace gsdk {

namespace {
constexpr std::size_t kMaxQueuedPerPeer = 256;
constexpr Millis kFirstAcceptBackoff{50};
constexpr Millis kMaxAcceptBackoff{1000};

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }
}  // namespace

IpcPeer::IpcPeer(IpcServer& server, uint64_t id, int fd, PeerCredentials cred)
    : server_(server), id_(id), fd_(fd), cred_(cred) {
    read_watch_ = std::make_unique<FdWatch>(server.loop_, fd, EV_READ, [this](short) { readable(); });
    write_watch_ = std::make_unique<FdWatch>(server.loop_, fd, EV_WRITE, [this](short) { writable(); });
    read_watch_->enable();
}

int IpcPeer::send(std::string_view message) {
    if (fd_ < 0) return -ENOTCONN;
    if (!queue_.empty()) {
        if (queue_.size() >= kMaxQueuedPerPeer) return -ENOBUFS;
        queue_.emplace_back(message);
        return 0;
    }
    int rc = seqpacket_send(fd_, message.data(), message.size());
    if (rc == -EAGAIN) {
        queue_.emplace_back(message);
        write_watch_->enable();
        return 0;
    }
    return rc;
}

int IpcPeer::send_with_fd(std::string_view message, int passed) {
    if (fd_ < 0) return -ENOTCONN;
    if (!queue_.empty()) return -EAGAIN;  // it would overtake what is queued
    return seqpacket_send_with_fd(fd_, message.data(), message.size(), passed);
}

void IpcPeer::writable() {
    while (!queue_.empty()) {
        int rc = seqpacket_send(fd_, queue_.front().data(), queue_.front().size());
        if (rc == -EAGAIN) return;
        queue_.pop_front();
    }
    write_watch_->disable();
}

void IpcPeer::readable() {
    static thread_local char buf[kMaxIpcMessage];
    // The watch is level-triggered: reading one message per wake-up saves the
    // extra recv() that would only return EAGAIN (one per answer, thousands a second).
    for (int rounds = 0; rounds < 4; ++rounds) {
        long n = seqpacket_receive(fd_, buf, sizeof buf);
        if (n == -EAGAIN) return;
        if (n == -EMSGSIZE) {
            LOG_RATELIMITED(LogLevel::Warning, "oversized",
                            "client pid %d uid %d sent a message over %zu bytes; dropped", cred_.pid, cred_.uid,
                            kMaxIpcMessage);
            continue;
        }
        // A peer that closed with our messages unread leaves ECONNRESET ahead
        // of its own queued messages (e.g. a Deregister): read those first.
        if (n == -ECONNRESET) continue;
        if (n <= 0) {
            server_.drop(id_, true);
            return;
        }
        if (server_.callbacks_.message) server_.callbacks_.message(*this, std::string_view(buf, n));
        return;
    }
}

void IpcPeer::close() { server_.drop(id_, false); }

IpcServer::IpcServer(EventLoop& loop, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)), reaper_(loop, [this] { doomed_.clear(); }),
      accept_backoff_(loop, [this] {
          if (accept_watch_) accept_watch_->enable();
      }) {}

IpcServer::~IpcServer() { shutdown(); }

int IpcServer::listen(const std::string& path, const SocketAccess& access) {
    // Bound under a temporary name and renamed into place once its owner and
    // mode are set: nobody ever sees (or connects to) it with others.
    std::string staging = path + ".new";
    int fd = seqpacket_listen(staging);
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
    listen_fd_ = fd;
    path_ = path;
    accept_watch_ = std::make_unique<FdWatch>(loop_, fd, EV_READ, [this](short) { accept_ready(); });
    accept_watch_->enable();
    return 0;
}

void IpcServer::shutdown() {
    accept_watch_.reset();
    accept_backoff_.stop();
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
    reserve_fd_ = -1;
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
        listen_fd_ = -1;
    }
    for (auto& [id, peer] : peers_) {
        ::close(peer->fd_);
        peer->fd_ = -1;
    }
    peers_.clear();
}

IpcPeer* IpcServer::find(uint64_t id) {
    auto it = peers_.find(id);
    return it == peers_.end() ? nullptr : it->second.get();
}

void IpcServer::accept_ready() {
    for (int rounds = 0; rounds < 64; ++rounds) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
        uint64_t id = next_id_++;
        auto peer = std::unique_ptr<IpcPeer>(new IpcPeer(*this, id, fd, cred));
        IpcPeer& ref = *peer;
        peers_.emplace(id, std::move(peer));
        if (callbacks_.accepted) callbacks_.accepted(ref);
    }
}

bool IpcServer::turn_away_one(int accept_errno) {
    if (reserve_fd_ < 0) reserve_fd_ = open_reserve();
    if (reserve_fd_ < 0) {
        LOG_RATELIMITED(LogLevel::Error, "descriptor-limit",
                        "cannot accept a client: %s, and no reserve descriptor (descriptor limit reached with %zu "
                        "clients); pausing",
                        std::strerror(accept_errno), peers_.size());
        pause_accepting();
        return false;
    }
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
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
                    cred.uid, std::strerror(accept_errno), peers_.size());
    return true;
}

void IpcServer::pause_accepting() {
    backoff_ = backoff_ == Millis(0) ? kFirstAcceptBackoff : std::min(backoff_ * 2, kMaxAcceptBackoff);
    if (accept_watch_) accept_watch_->disable();
    accept_backoff_.start(backoff_);
}

void IpcServer::drop(uint64_t id, bool notify) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    std::unique_ptr<IpcPeer> peer = std::move(it->second);
    peers_.erase(it);
    if (notify && callbacks_.closed) callbacks_.closed(*peer);
    peer->read_watch_->disable();
    peer->write_watch_->disable();
    ::close(peer->fd_);
    peer->fd_ = -1;
    // The peer may be dropped from inside its own callback: free it later.
    doomed_.push_back(std::move(peer));
    reaper_.start(Millis(0));
}

}  // namespace gsdk
