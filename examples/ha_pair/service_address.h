// The service address of the pair: a UNIX datagram socket path that clients
// send their requests to, held by the active node only. It plays the part of
// keepalived's virtual IP: taking over is binding it, and whoever holds it
// receives the requests.
//
// A node takes the address by binding a socket of its own under a temporary
// name and renaming it over the path: one atomic step, so a client's request
// finds either the old holder or the new one, never nothing (after a crash,
// the dead node's socket file stays until then, and sending to it fails with
// ECONNREFUSED: the client sends again). The rename also fences the old
// holder: before answering, a node checks that the path is still its socket
// (holds()), so one that was frozen while the other took over does not
// answer what it had queued.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <string>

namespace ha {

struct Peer {
    sockaddr_un address{};
    socklen_t length = 0;
};

class ServiceAddress {
public:
    explicit ServiceAddress(std::string path) : path_(std::move(path)) {}
    ~ServiceAddress() { release(); }
    ServiceAddress(const ServiceAddress&) = delete;
    ServiceAddress& operator=(const ServiceAddress&) = delete;

    // Binds a new socket and renames it over the path. 0 or a negative errno.
    int take(const std::string& node);
    // Closes our socket; requests queued in it are dropped (clients resend).
    // The path is left for the next holder to rename over.
    void release();
    bool bound() const { return fd_ >= 0; }
    // Whether the path still names our socket.
    bool holds() const;
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

    // One datagram into buf (up to size bytes): its length, -EAGAIN if none
    // is waiting, or another negative errno. A longer datagram comes back truncated
    // with its full length (> size), for the caller to refuse.
    ssize_t receive(char* buf, std::size_t size, Peer* from);
    // 0 or a negative errno (the client may have gone).
    int send(const Peer& to, const std::string& datagram);

private:
    std::string path_;
    int fd_ = -1;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace ha
