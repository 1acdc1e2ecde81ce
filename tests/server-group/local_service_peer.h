// A local service on server-groupd's service socket, as guest-scaled is:
// claims an address and exchanges ServiceMessage / RelayMessage packets.
#pragma once

#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "gsdk/unix_socket.h"
#include "local_service_ipc.pb.h"

namespace gsdk::test {

namespace service = gsdk::server_group::service;

class TestService {
public:
    explicit TestService(const std::string& path) : fd_(seqpacket_connect(path)) {}
    ~TestService() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool connected() const { return fd_ >= 0; }
    void send(const service::ServiceMessage& m) {
        std::string bytes = m.SerializeAsString();
        seqpacket_send(fd_, bytes.data(), bytes.size());
    }
    std::optional<service::RelayMessage> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto end = std::chrono::steady_clock::now() + timeout;
        char buf[65536];
        while (std::chrono::steady_clock::now() < end) {
            long n = seqpacket_receive(fd_, buf, sizeof buf);
            if (n > 0) {
                service::RelayMessage m;
                if (m.ParseFromArray(buf, static_cast<int>(n))) return m;
                return std::nullopt;
            }
            if (n == 0) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return std::nullopt;
    }
    // Skips host-link notices.
    std::optional<service::RelayMessage> receive_kind(service::RelayMessage::BodyCase kind,
                                                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        for (;;) {
            auto m = receive(timeout);
            if (!m || m->body_case() == kind) return m;
        }
    }
    std::optional<service::ClaimResult> claim(const std::string& address) {
        service::ServiceMessage m;
        m.mutable_claim()->set_address(address);
        send(m);
        auto r = receive_kind(service::RelayMessage::kClaimResult);
        if (!r) return std::nullopt;
        return r->claim_result();
    }

private:
    int fd_;
};

}  // namespace gsdk::test
