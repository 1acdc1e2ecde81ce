#include "service_address.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ha {

int ServiceAddress::take(const std::string& node) {
    release();
    std::string temporary = path_ + "." + node + ".new";
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (temporary.size() >= sizeof sa.sun_path) return -ENAMETOOLONG;
    std::memcpy(sa.sun_path, temporary.c_str(), temporary.size() + 1);

    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    ::unlink(temporary.c_str());  // left by an earlier run of this node
    struct stat st;
    // Owner and group may send requests (sending needs write permission).
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::chmod(temporary.c_str(), 0660) < 0 ||
        ::stat(temporary.c_str(), &st) < 0 || ::rename(temporary.c_str(), path_.c_str()) < 0) {
        int e = errno;
        ::unlink(temporary.c_str());
        ::close(fd);
        return -e;
    }
    fd_ = fd;
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    return 0;
}

void ServiceAddress::release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool ServiceAddress::holds() const {
    struct stat st;
    return fd_ >= 0 && ::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
}

ssize_t ServiceAddress::receive(char* buf, std::size_t size, Peer* from) {
    from->length = sizeof from->address;
    ssize_t n = ::recvfrom(fd_, buf, size, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from->address), &from->length);
    if (n >= 0) return n;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

int ServiceAddress::send(const Peer& to, const std::string& datagram) {
    if (to.length <= sizeof(sa_family_t)) return -EDESTADDRREQ;  // an unbound client cannot be answered
    ssize_t n = ::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                         reinterpret_cast<const sockaddr*>(&to.address), to.length);
    return n < 0 ? -errno : 0;
}

}  // namespace ha
