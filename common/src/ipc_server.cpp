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
    // The watch is level-triggered: by default reading one message per
    // wake-up saves the extra recv() that would only return EAGAIN (one per
    // answer, thousands a second); streaming peers take more (set_messages_per_wakeup).
    unsigned taken = 0;
    for (unsigned rounds = 0; rounds < server_.messages_per_wakeup_ + 3 && fd_ >= 0; ++rounds) {
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
        // The callback may have closed us (fd_ is then -1: the loop ends).
        if (++taken >= server_.messages_per_wakeup_) return;
    }
}

void IpcPeer::close() { server_.drop(id_, false); }

IpcServer::IpcServer(EventLoop& loop, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)),
      listener_(loop, UnixListener::Callbacks{
                          [this](int fd, PeerCredentials cred) { serve(fd, std::move(cred), next_id_++); },
                          [this] { return peers_.size(); }}),
      reaper_(loop, [this] { doomed_.clear(); }) {}

IpcServer::~IpcServer() { shutdown(); }

int IpcServer::listen(const std::string& path, const SocketAccess& access) {
    return listener_.listen(path, access, SOCK_SEQPACKET, 1024);
}

void IpcServer::shutdown() {
    listener_.shutdown();
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

uint64_t IpcServer::adopt(int fd, PeerCredentials cred) {
    uint64_t id = next_id_++;
    serve(fd, std::move(cred), id);
    return peers_.count(id) ? id : 0;
}

void IpcServer::serve(int fd, PeerCredentials cred, uint64_t id) {
    auto peer = std::unique_ptr<IpcPeer>(new IpcPeer(*this, id, fd, std::move(cred)));
    IpcPeer& ref = *peer;
    peers_.emplace(id, std::move(peer));
    if (callbacks_.accepted) callbacks_.accepted(ref);
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
