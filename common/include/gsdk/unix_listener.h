// The accepting end of a daemon's local socket, whatever its type: created
// under a temporary name and renamed into place once its owner and mode are
// set, every connection handed on with its peer's credentials (SO_PEERCRED),
// and at the descriptor limit a waiting client turned away (a reserved
// descriptor makes room) instead of a listen watch that fires forever.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "gsdk/event_loop.h"
#include "gsdk/peer_access.h"
#include "gsdk/unix_socket.h"

namespace gsdk {

class UnixListener {
public:
    struct Callbacks {
        // A connection (non-blocking, close-on-exec) that is now the callee's.
        std::function<void(int fd, PeerCredentials cred)> accepted;
        // How many clients are connected, for the log line at the limit.
        std::function<std::size_t()> clients;
    };

    UnixListener(EventLoop& loop, Callbacks callbacks);
    ~UnixListener();
    UnixListener(const UnixListener&) = delete;
    UnixListener& operator=(const UnixListener&) = delete;

    // socket_type: SOCK_SEQPACKET or SOCK_STREAM. Returns 0 or a negative
    // errno, logged with the step that failed.
    int listen(const std::string& path, const SocketAccess& access, int socket_type, int backlog);
    // Stops accepting and removes the socket file.
    void shutdown();
    bool listening() const { return fd_ >= 0; }

private:
    void accept_ready();
    // Out of descriptors: turn one waiting client away (so that the listen
    // socket stops being readable). Returns false when even that failed and
    // accepting pauses.
    bool turn_away_one(int accept_errno);
    void pause_accepting();

    EventLoop& loop_;
    Callbacks callbacks_;
    int fd_ = -1;
    std::string path_;
    std::unique_ptr<FdWatch> watch_;
    // Held open so that a descriptor is free to accept (and close) a client
    // when the limit is reached.
    int reserve_fd_ = -1;
    Timer backoff_timer_;
    Millis backoff_{0};
};

}  // namespace gsdk
