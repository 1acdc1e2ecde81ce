#include "control_socket.hpp"

#include <gsdk/unix_socket.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
        error = "socket path '" + path + "' is empty or too long";
        return false;
    }
    std::memcpy(a.sun_path, path.data(), path.size());
    return true;
}

}  // namespace

int unix_listen_exclusive(const std::string& path, mode_t mode, std::string& error) {
    sockaddr_un a;
    if (!make_addr(path, a, error)) return -1;
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
        ::close(probe);
        error = path + ": another switch is listening there";
        return -1;
    }
    if (probe >= 0) ::close(probe);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error = path + ": exists and is not a socket";
            return -1;
        }
        ::unlink(path.c_str());  // stale socket of a dead switch
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    // The socket is created with the mode wanted, so no one can connect in
    // the window before a chmod.
    mode_t old = ::umask(0777 & ~mode);
    int rc = fd < 0 ? -1 : ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::umask(old);
    if (rc != 0 || ::listen(fd, 64) != 0) {
        error = path + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

bool peer_allowed(int fd, uid_t* uid, pid_t* pid) {
    gsdk::PeerCredentials c;
    if (gsdk::peer_credentials(fd, &c) < 0) return false;
    *uid = c.uid;
    *pid = c.pid;
    return c.uid == 0 || c.uid == ::geteuid();
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
