#include "original_library_socket.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace gsdk::test {

namespace {

socklen_t abstract(const std::string& name, sockaddr_un* a) {
    std::memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    std::memcpy(a->sun_path + 1, name.data(), name.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

}  // namespace

OriginalLibrarySocket::OriginalLibrarySocket(const std::string& name) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a;
    socklen_t len = abstract(name, &a);
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0)
        fd_ = fd;
    else if (fd >= 0)
        ::close(fd);
}

OriginalLibrarySocket::~OriginalLibrarySocket() {
    if (fd_ >= 0) ::close(fd_);
}

int OriginalLibrarySocket::send(const std::string& text) {
    sockaddr_un a;
    socklen_t len = abstract("cgcs.messaging", &a);
    if (::sendto(fd_, text.data(), text.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&a), len) < 0) return -errno;
    return 0;
}

std::optional<nlohmann::json> OriginalLibrarySocket::receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];  // what the original reads per datagram
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    raw_.assign(buf, static_cast<std::size_t>(n));
    auto j = nlohmann::json::parse(raw_, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

std::string OriginalLibrarySocket::broadcast_text(const std::string& payload) {
    return R"({"data":{"version":2,"msg_type":"broadcast","data":")" + payload +
           R"("},"version":2,"dest_addr":"cgcs.server_grp"})";
}

std::string OriginalLibrarySocket::status_query_text(int seq) {
    return R"({"data":{"version":2,"msg_type":"status_query","seq":)" + std::to_string(seq) +
           R"(},"version":2,"dest_addr":"cgcs.server_grp"})";
}

}  // namespace gsdk::test
