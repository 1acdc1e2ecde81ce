// UNIX socket primitives shared by daemons and client libraries (no event loop
// here, so libraries can use them inside the application's loop). All return
// a descriptor or a negative errno.
#pragma once

#include <sys/types.h>
#include <cstddef>
#include <string>
#include <vector>

namespace gsdk {

// Largest library <-> daemon message (a protobuf per SOCK_SEQPACKET datagram).
inline constexpr std::size_t kMaxIpcMessage = 64 * 1024;

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    // Supplementary groups of the peer as they were when it connected
    // (SO_PEERGROUPS), filled by peer_credentials().
    std::vector<gid_t> groups;
};

// Removes a stale socket file first; sets close-on-exec and non-blocking.
int unix_stream_listen(const std::string& path, int backlog = 4);
int unix_stream_connect(const std::string& path);
// Never blocks: -EAGAIN when the listener's backlog is full (its owner, e.g.
// a stopped QEMU, is not accepting). On success the descriptor is
// non-blocking; *in_progress says the connection is not yet established
// (wait for writability, then socket_error()). Linux completes UNIX
// connections at once, but a caller must not rely on it.
int unix_stream_connect_nonblocking(const std::string& path, bool* in_progress);
// The pending error of a socket (SO_ERROR) as a negative errno, or 0.
int socket_error(int fd);
int seqpacket_listen(const std::string& path, int backlog = 1024);
int seqpacket_connect(const std::string& path);

// SO_PEERCRED and SO_PEERGROUPS: who connected, fixed at connect() time (a
// peer cannot change them afterwards, and they do not depend on /proc or the
// group database). Returns 0 or a negative errno.
int peer_credentials(int fd, PeerCredentials* out);

// One message per call; never raises SIGPIPE. -EAGAIN when the peer's queue is full.
int seqpacket_send(int fd, const void* data, std::size_t len);
// Returns the length (0 = peer closed), -EMSGSIZE if the message was larger
// than the buffer (it is consumed), or another negative errno.
long seqpacket_receive(int fd, void* buf, std::size_t cap);

// The same, with one descriptor passed alongside (SCM_RIGHTS). The sender
// keeps its own copy. On receive, *passed is the descriptor that came with
// the message (close-on-exec; the caller owns it) or -1; any further ones
// are closed.
int seqpacket_send_with_fd(int fd, const void* data, std::size_t len, int passed);
long seqpacket_receive_with_fd(int fd, void* buf, std::size_t cap, int* passed);

}  // namespace gsdk
