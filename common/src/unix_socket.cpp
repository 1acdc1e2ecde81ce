#include "gsdk/unix_socket.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace gsdk {

namespace {

int make_address(const std::string& path, sockaddr_un* addr) {
    if (path.empty() || path.size() >= sizeof(addr->sun_path)) return -ENAMETOOLONG;
    std::memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    std::memcpy(addr->sun_path, path.c_str(), path.size());
    return 0;
}

int listen_on(const std::string& path, int type, int backlog) {
    sockaddr_un addr;
    if (int rc = make_address(path, &addr); rc < 0) return rc;
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    // A socket file left by a crashed owner would make bind fail forever.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(fd, backlog) < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    return fd;
}

int connect_to(const std::string& path, int type) {
    sockaddr_un addr;
    if (int rc = make_address(path, &addr); rc < 0) return rc;
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    return fd;
}

}  // namespace

int unix_stream_listen(const std::string& path) { return listen_on(path, SOCK_STREAM, 4); }
int unix_stream_connect(const std::string& path) { return connect_to(path, SOCK_STREAM); }
int seqpacket_listen(const std::string& path, int backlog) { return listen_on(path, SOCK_SEQPACKET, backlog); }
int seqpacket_connect(const std::string& path) { return connect_to(path, SOCK_SEQPACKET); }

int peer_credentials(int fd, PeerCredentials* out) {
    ucred cred;
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
    out->pid = cred.pid;
    out->uid = cred.uid;
    out->gid = cred.gid;
    return 0;
}

int seqpacket_send(int fd, const void* data, std::size_t len) {
    if (len > kMaxIpcMessage) return -EMSGSIZE;
    for (;;) {
        ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return 0;
        if (errno == EINTR) continue;
        return -errno;
    }
}

long seqpacket_receive(int fd, void* buf, std::size_t cap) {
    for (;;) {
        ssize_t n = ::recv(fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (static_cast<std::size_t>(n) > cap) return -EMSGSIZE;
        return n;
    }
}

}  // namespace gsdk
