#include "raw_application.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gsdk::test {

using namespace std::chrono;

RawApplication::RawApplication(const std::string& socket_path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        error_ = errno;
        close();
    }
}

RawApplication::~RawApplication() { close(); }

bool RawApplication::send_bytes(const std::string& bytes) {
    return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

bool RawApplication::send_register(const std::string& name, uint32_t interval_ms, ipc::Action action) {
    ipc::ClientMessage msg;
    auto* r = msg.mutable_register_();
    r->set_application_name(name);
    r->set_heartbeat_interval_ms(interval_ms);
    r->set_vote_secs(5);
    r->set_shutdown_notice_secs(5);
    r->set_suspend_notice_secs(5);
    r->set_resume_notice_secs(5);
    r->set_corrective_action(action);
    return send_bytes(msg.SerializeAsString());
}

std::optional<ipc::RegisterResult> RawApplication::register_result(milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    while (fd_ >= 0) {
        auto left = duration_cast<milliseconds>(end - steady_clock::now()).count();
        if (left <= 0) return std::nullopt;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) return std::nullopt;
        ipc::DaemonMessage msg;
        if (msg.ParseFromArray(buf, static_cast<int>(n)) && msg.has_register_result()) return msg.register_result();
    }
    return std::nullopt;
}

std::optional<ipc::RegisterResult> RawApplication::register_as(const std::string& name, ipc::Action action) {
    if (!send_register(name, 1000, action)) return std::nullopt;
    return register_result();
}

bool RawApplication::closed_by_daemon(milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    while (fd_ >= 0) {
        // Looks at least once, so that a zero timeout asks "closed by now?".
        auto left = std::max<long long>(0, duration_cast<milliseconds>(end - steady_clock::now()).count());
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
            if (steady_clock::now() >= end) return false;
            continue;
        }
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
    }
    return true;
}

void RawApplication::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

}  // namespace gsdk::test
