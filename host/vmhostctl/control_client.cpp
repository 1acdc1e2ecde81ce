#include "control_client.h"

#include <poll.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <vector>

#include "gsdk/unix_socket.h"

namespace vmhostctl {

ControlClient::~ControlClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool ControlClient::connect(const std::string& path, std::string* error) {
    path_ = path;
    fd_ = gsdk::seqpacket_connect(path);
    if (fd_ >= 0) return true;
    int err = -fd_;
    fd_ = -1;
    *error = "cannot reach vmhostd at " + path + ": " + std::strerror(err);
    if (err == ENOENT || err == ECONNREFUSED) *error += " (is vmhostd running? see --socket)";
    return false;
}

std::optional<control::Reply> ControlClient::call(control::Request request, int timeout_ms, std::string* error) {
    uint64_t id = next_request_++;
    request.set_request_id(id);
    std::string bytes = request.SerializeAsString();
    for (;;) {
        int rc = gsdk::seqpacket_send(fd_, bytes.data(), bytes.size());
        if (rc >= 0) break;
        if (rc != -EAGAIN) {
            *error = "cannot send to vmhostd: " + std::string(std::strerror(-rc));
            return std::nullopt;
        }
        if (interrupted()) {
            *error = "interrupted";
            return std::nullopt;
        }
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 1000);
    }
    std::vector<char> buf(gsdk::kMaxIpcMessage);
    for (;;) {
        pollfd p{fd_, POLLIN, 0};
        int n = ::poll(&p, 1, timeout_ms);
        if (n == 0) {
            *error = "no answer from vmhostd within " + std::to_string(timeout_ms / 1000) + " s";
            return std::nullopt;
        }
        if (n < 0) {
            if (errno == EINTR && !interrupted()) continue;
            if (errno == EINTR) {
                *error = "interrupted";
                return std::nullopt;
            }
            *error = std::string("poll: ") + std::strerror(errno);
            return std::nullopt;
        }
        long len = gsdk::seqpacket_receive(fd_, buf.data(), buf.size());
        if (len == -EAGAIN) continue;
        if (len == 0) {
            *error = "vmhostd closed the connection (did it stop?)";
            return std::nullopt;
        }
        if (len < 0) {
            *error = "cannot read from vmhostd: " + std::string(std::strerror(static_cast<int>(-len)));
            return std::nullopt;
        }
        control::Reply reply;
        if (!reply.ParseFromArray(buf.data(), static_cast<int>(len))) {
            *error = "vmhostd sent a reply that does not parse";
            return std::nullopt;
        }
        if (reply.request_id() != id) continue;  // an answer to an older request of ours
        return reply;
    }
}

}  // namespace vmhostctl
