#include "ivshmem_client.hpp"

#include <endian.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace avptest {

IvshmemClient::~IvshmemClient() {
    close();
    if (shm_fd_ >= 0) ::close(shm_fd_);
}

void IvshmemClient::close() {
    if (sock_ >= 0) ::close(sock_);
    sock_ = -1;
    for (int fd : eventfds_) ::close(fd);
    eventfds_.clear();
    for (auto& [peer, fds] : peers_)
        for (int fd : fds) ::close(fd);
    peers_.clear();
}

bool IvshmemClient::receive(int64_t& value, int& fd, std::string& error) {
    fd = -1;
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) {
        error = "no message within 5 s";
        return false;
    }
    uint64_t le = 0;
    iovec iov{&le, sizeof(le)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(sock_, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    if (n != sizeof(le)) {
        error = n == 0 ? "server closed the connection" : "short message";
        return false;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int got;
            std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (fd < 0)
                fd = got;
            else
                ::close(got);  // one descriptor per message, as QEMU expects
        }
    }
    value = static_cast<int64_t>(le64toh(le));
    return true;
}

std::string IvshmemClient::connect(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(sock_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
        return "connect: " + std::string(std::strerror(errno));
    std::string err;
    int fd;
    if (!receive(version_, fd, err) || fd >= 0) return "version: " + err;
    if (!receive(id_, fd, err) || fd >= 0) return "peer id: " + err;
    int64_t minus_one;
    if (!receive(minus_one, fd, err)) return "shared memory: " + err;
    if (minus_one != -1 || fd < 0) return "shared memory message is not -1 with a descriptor";
    shm_fd_ = fd;
    return {};
}

std::string IvshmemClient::read_vectors(uint32_t n) {
    for (uint32_t v = 0; v < n;) {
        int64_t who;
        int fd;
        std::string err;
        if (!receive(who, fd, err)) return "vector " + std::to_string(v) + ": " + err;
        if (fd < 0) return "vector " + std::to_string(v) + ": a message without an eventfd";
        if (who != id_) {
            peers_[who].push_back(fd);
            continue;
        }
        eventfds_.push_back(fd);
        v++;
    }
    return {};
}

bool IvshmemClient::ring(int64_t peer, uint32_t vector) {
    auto it = peers_.find(peer);
    if (it == peers_.end() || vector >= it->second.size()) return false;
    uint64_t one = 1;
    return ::write(it->second[vector], &one, sizeof(one)) == sizeof(one);
}

size_t IvshmemClient::peer_vectors(int64_t peer) const {
    auto it = peers_.find(peer);
    return it == peers_.end() ? 0 : it->second.size();
}

bool IvshmemClient::refused() {
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    char b;
    return ::recv(sock_, &b, 1, 0) == 0;
}

bool IvshmemClient::send_junk(size_t n) {
    std::string junk(n, 'x');
    return ::send(sock_, junk.data(), junk.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(n);
}

uint64_t IvshmemClient::wait(uint32_t v) {
    if (v >= eventfds_.size()) return 0;
    pollfd p{eventfds_[v], POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return 0;
    return take(v);
}

uint64_t IvshmemClient::take(uint32_t v) {
    if (v >= eventfds_.size()) return 0;
    uint64_t count = 0;
    // Our copy of the eventfd is blocking; read only what poll says is there.
    pollfd p{eventfds_[v], POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return 0;
    if (::read(eventfds_[v], &count, sizeof(count)) != sizeof(count)) return 0;
    return count;
}

}  // namespace avptest
