// The daemon end of a library <-> daemon socket: SOCK_SEQPACKET (one protobuf
// per datagram), the peer's pid/uid from SO_PEERCRED, and EOF when the client
// process dies, which is how a daemon notices a crashed application.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gsdk/event_loop.h"
#include "gsdk/peer_access.h"
#include "gsdk/unix_socket.h"

namespace gsdk {

class IpcServer;

class IpcPeer {
public:
    uint64_t id() const { return id_; }
    const PeerCredentials& credentials() const { return cred_; }
    // Sends one message; queues it while the peer's socket is full.
    // Returns -ENOBUFS if the peer has stopped reading for too long.
    int send(std::string_view message);
    // Sends one message with a descriptor (the caller keeps its copy). Never
    // queued: -EAGAIN when it cannot go at once, and the caller decides.
    int send_with_fd(std::string_view message, int passed);
    // Closes the connection from our side (no closed callback).
    void close();

private:
    friend class IpcServer;
    IpcPeer(IpcServer& server, uint64_t id, int fd, PeerCredentials cred);
    void readable();
    void writable();

    IpcServer& server_;
    uint64_t id_;
    int fd_;
    PeerCredentials cred_;
    std::deque<std::string> queue_;
    std::unique_ptr<FdWatch> read_watch_;
    std::unique_ptr<FdWatch> write_watch_;
};

class IpcServer {
public:
    struct Callbacks {
        // A new peer with its credentials; the callback may close() it.
        std::function<void(IpcPeer&)> accepted;
        std::function<void(IpcPeer&, std::string_view message)> message;
        // The peer closed the socket (clean exit or process death).
        std::function<void(IpcPeer&)> closed;
    };

    IpcServer(EventLoop& loop, Callbacks callbacks);
    ~IpcServer();
    IpcServer(const IpcServer&) = delete;
    IpcServer& operator=(const IpcServer&) = delete;

    // Creates the socket with the given ownership and modes (the directory
    // is the caller's: see prepare_socket_directory()). Returns 0 or a
    // negative errno, logged with the step that failed.
    int listen(const std::string& path, const SocketAccess& access);
    // Mode 0666, for callers that have not chosen who may connect.
    int listen(const std::string& path) { return listen(path, SocketAccess::world_writable()); }
    void shutdown();
    IpcPeer* find(uint64_t id);
    std::size_t peer_count() const { return peers_.size(); }

private:
    friend class IpcPeer;
    void accept_ready();
    // Out of descriptors: turn one waiting client away (so that the listen
    // socket stops being readable) instead of leaving the watch to fire
    // forever. Returns false when even that failed and accepting pauses.
    bool turn_away_one(int accept_errno);
    void pause_accepting();
    void drop(uint64_t id, bool notify);

    EventLoop& loop_;
    Callbacks callbacks_;
    int listen_fd_ = -1;
    std::string path_;
    std::unique_ptr<FdWatch> accept_watch_;
    // Held open so that a descriptor is free to accept (and close) a client
    // when the limit is reached.
    int reserve_fd_ = -1;
    std::unordered_map<uint64_t, std::unique_ptr<IpcPeer>> peers_;  // looked up per message sent
    uint64_t next_id_ = 1;
    std::vector<std::unique_ptr<IpcPeer>> doomed_;
    Timer reaper_;
    Timer accept_backoff_;
    Millis backoff_{0};
};

}  // namespace gsdk
