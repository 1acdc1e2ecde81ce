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
#include "gsdk/unix_listener.h"
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
    // Serves a connection that did not come through the socket (a
    // socketpair end whose other end speaks for a client reached some other
    // way, with that client's credentials): as if it had been accepted.
    // Returns the peer's id (0 if the accepted callback closed it at once).
    uint64_t adopt(int fd, PeerCredentials cred);
    IpcPeer* find(uint64_t id);
    std::size_t peer_count() const { return peers_.size(); }
    // Messages taken from one peer per wake-up (1 to 64; 1 by default).
    // One suits request/answer peers: a second recv() would only say
    // EAGAIN. A peer that streams (a member broadcasting) costs a wake-up
    // per message at 1; more lets a burst in with one, at the price of that
    // last EAGAIN, and still lets the other peers take their turn.
    void set_messages_per_wakeup(unsigned n) { messages_per_wakeup_ = n < 1 ? 1 : n > 64 ? 64 : n; }

private:
    friend class IpcPeer;
    void serve(int fd, PeerCredentials cred, uint64_t id);
    void drop(uint64_t id, bool notify);

    EventLoop& loop_;
    Callbacks callbacks_;
    UnixListener listener_;
    std::unordered_map<uint64_t, std::unique_ptr<IpcPeer>> peers_;  // looked up per message sent
    uint64_t next_id_ = 1;
    unsigned messages_per_wakeup_ = 1;
    std::vector<std::unique_ptr<IpcPeer>> doomed_;
    Timer reaper_;
};

}  // namespace gsdk
