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
        std::function<void(IpcPeer&)> accepted;
        std::function<void(IpcPeer&, std::string_view message)> message;
        // The peer closed the socket (clean exit or process death).
        std::function<void(IpcPeer&)> closed;
    };

    IpcServer(EventLoop& loop, Callbacks callbacks);
    ~IpcServer();
    IpcServer(const IpcServer&) = delete;
    IpcServer& operator=(const IpcServer&) = delete;

    // Creates the socket (mode 0666: any local application may register).
    int listen(const std::string& path);
    void shutdown();
    IpcPeer* find(uint64_t id);
    std::size_t peer_count() const { return peers_.size(); }

private:
    friend class IpcPeer;
    void accept_ready();
    void drop(uint64_t id, bool notify);

    EventLoop& loop_;
    Callbacks callbacks_;
    int listen_fd_ = -1;
    std::string path_;
    std::unique_ptr<FdWatch> accept_watch_;
    std::unordered_map<uint64_t, std::unique_ptr<IpcPeer>> peers_;  // looked up per message sent
    uint64_t next_id_ = 1;
    std::vector<std::unique_ptr<IpcPeer>> doomed_;
    Timer reaper_;
};

}  // namespace gsdk
