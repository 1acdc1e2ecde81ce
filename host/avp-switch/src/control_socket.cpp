#include "control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace avpsw {

namespace {

bool make_addr(const std::string& path, sockaddr_un& a, std::string& error) {
    std::memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(a.sun_path)) {
        error = "control socket path '" + path + "' is empty or too long";
        return false;
    }
    std::memcpy(a.sun_path, path.data(), path.size());
    return true;
}

}  // namespace

int control_listen(const std::string& path, std::string& error) {
    sockaddr_un a;
    if (!make_addr(path, a, error)) return -1;
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
        ::close(probe);
        error = path + ": another switch is listening there";
        return -1;
    }
    if (probe >= 0) ::close(probe);
    ::unlink(path.c_str());  // stale socket of a dead switch
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 16) != 0) {
        error = path + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

bool control_read_line(int fd, std::string& line) {
    line.clear();
    char buf[512];
    for (int waits = 0; waits < 10;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n > 0) {
            line.append(buf, static_cast<size_t>(n));
            auto nl = line.find('\n');
            if (nl != std::string::npos) {
                line.resize(nl);
                return true;
            }
            if (line.size() > 4096) return false;
            continue;
        }
        if (n == 0) return !line.empty();
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return false;
        pollfd p{fd, POLLIN, 0};
        // A dawdling client gets 100 ms in all: guest requests wait meanwhile.
        ::poll(&p, 1, 10);
        waits++;
    }
    return false;
}

void control_reply(int fd, const std::string& json_line) {
    std::string s = json_line + "\n";
    size_t off = 0;
    for (int tries = 0; off < s.size() && tries < 100; tries++) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += static_cast<size_t>(n);
        } else if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 10);
        } else if (n < 0 && errno != EINTR) {
            break;
        }
    }
    ::close(fd);
}

bool control_call(const std::string& path, const std::string& line, std::string& reply, std::string& error) {
    sockaddr_un a;
    if (!make_addr(path, a, error)) return false;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        error = "cannot reach the switch at " + path + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return false;
    }
    std::string s = line + "\n";
    if (::send(fd, s.data(), s.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(s.size())) {
        error = "cannot send to " + path + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    reply.clear();
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) reply.append(buf, static_cast<size_t>(n));
    ::close(fd);
    while (!reply.empty() && reply.back() == '\n') reply.pop_back();
    if (reply.empty()) {
        error = "the switch closed the connection without a reply";
        return false;
    }
    return true;
}

}  // namespace avpsw
