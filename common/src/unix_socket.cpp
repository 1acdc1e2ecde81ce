#include "gsdk/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

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
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    return fd;
}

}  // namespace

int unix_stream_listen(const std::string& path, int backlog) { return listen_on(path, SOCK_STREAM, backlog); }
int unix_stream_connect(const std::string& path) { return connect_to(path, SOCK_STREAM); }
int unix_stream_connect_nonblocking(const std::string& path, bool* in_progress) {
    *in_progress = false;
    sockaddr_un addr;
    if (int rc = make_address(path, &addr); rc < 0) return rc;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    // An interrupted non-blocking connect goes on in the background, like EINPROGRESS.
    if (rc < 0 && (errno == EINPROGRESS || errno == EINTR)) {
        *in_progress = true;
        return fd;
    }
    if (rc < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    return fd;
}

int socket_error(int fd) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
    return -err;
}

int seqpacket_listen(const std::string& path, int backlog) { return listen_on(path, SOCK_SEQPACKET, backlog); }
int seqpacket_connect(const std::string& path) { return connect_to(path, SOCK_SEQPACKET); }

int peer_credentials(int fd, PeerCredentials* out) {
    ucred cred;
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
    out->pid = cred.pid;
    out->uid = cred.uid;
    out->gid = cred.gid;
    // NGROUPS_MAX is 65536: ask with a small buffer first, grow once.
    out->groups.assign(64, 0);
    socklen_t glen = static_cast<socklen_t>(out->groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, out->groups.data(), &glen) < 0) {
        if (errno != ERANGE) {
            int err = errno;
            out->groups.clear();
            return -err;
        }
        out->groups.assign(glen / sizeof(gid_t) + 1, 0);
        glen = static_cast<socklen_t>(out->groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, out->groups.data(), &glen) < 0) {
            int err = errno;
            out->groups.clear();
            return -err;
        }
    }
    out->groups.resize(glen / sizeof(gid_t));
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

int seqpacket_send_with_fd(int fd, const void* data, std::size_t len, int passed) {
    if (len > kMaxIpcMessage) return -EMSGSIZE;
    iovec iov{const_cast<void*>(data), len};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &passed, sizeof(int));
    for (;;) {
        ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return 0;
        if (errno == EINTR) continue;
        return -errno;
    }
}

long seqpacket_receive_with_fd(int fd, void* buf, std::size_t cap, int* passed) {
    *passed = -1;
    iovec iov{buf, cap};
    // Room for a few descriptors, so that a peer sending more than one
    // cannot make the kernel truncate (and drop) the one we look for.
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        n = ::recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int got;
            std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*passed < 0)
                *passed = got;
            else
                ::close(got);
        }
    }
    if (static_cast<std::size_t>(n) > cap) {
        if (*passed >= 0) ::close(*passed);
        *passed = -1;
        return -EMSGSIZE;
    }
    return n;
}

}  // namespace gsdk
