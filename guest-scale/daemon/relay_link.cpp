#include "relay_link.h"

#include <event2/event.h>

#include <cerrno>
#include <cstring>

#include "gsdk/log.h"
#include "local_service_ipc.pb.h"

namespace gsdk::scale {

namespace service = ::gsdk::server_group::service;

RelayLink::RelayLink(EventLoop& loop, std::string service_socket, std::string address, Callbacks callbacks)
    : loop_(loop), address_(std::move(address)), callbacks_(std::move(callbacks)),
      client_(IpcClient::Options{std::move(service_socket), std::chrono::milliseconds(100),
                                 std::chrono::milliseconds(2000)},
              IpcClient::Callbacks{
                  [this] { connected(); },
                  [this](const char* data, std::size_t len, int) { received(data, len); },
                  [this](const std::string& reason) { lost(reason); },
                  [](const std::string& what) {
                      LOG_RATELIMITED(LogLevel::Warning, "dropped", "server-groupd: dropped %s", what.c_str());
                  },
                  // -EACCES: server-groupd's SOCKET_GROUP leaves us out. Keep
                  // trying (its settings may change), say why now and then.
                  [this](int error) {
                      LOG_RATELIMITED(LogLevel::Warning, "connect", "cannot reach server-groupd at %s: %s",
                                      client_.path().c_str(), std::strerror(-error));
                      return false;
                  },
              }) {}

RelayLink::~RelayLink() { stop(); }

int RelayLink::start() {
    if (int rc = client_.open(); rc < 0) return rc;
    watch_ = std::make_unique<FdWatch>(loop_, client_.fd(), EV_READ, [this](short) { pump(); });
    watch_->enable();
    if (int rc = client_.connect_now(); rc < 0) {
        LOG_NOTICE("server-groupd is not reachable at %s (%s); retrying", client_.path().c_str(), std::strerror(-rc));
        client_.connect_later();
    }
    client_.arm(std::nullopt);
    return 0;
}

void RelayLink::stop() {
    watch_.reset();
    client_.disconnect();
    claimed_ = false;
}

void RelayLink::pump() {
    client_.process();
    client_.arm(std::nullopt);
}

void RelayLink::connected() {
    service::ServiceMessage m;
    m.mutable_claim()->set_address(address_);
    if (int rc = client_.send(m.SerializeAsString()); rc < 0) {
        LOG_WARN("cannot claim %s at server-groupd: %s", address_.c_str(), std::strerror(-rc));
        client_.disconnect();
        client_.connect_later();
    }
}

void RelayLink::lost(const std::string& reason) {
    bool was = claimed_;
    claimed_ = false;
    host_connected_ = false;
    LOG_RATELIMITED(LogLevel::Warning, "lost", "link to server-groupd lost (%s); reconnecting", reason.c_str());
    client_.connect_later();
    if (was && callbacks_.claimed) callbacks_.claimed(false);
}

void RelayLink::received(const char* data, std::size_t len) {
    service::RelayMessage m;
    if (!m.ParseFromArray(data, static_cast<int>(len))) {
        LOG_RATELIMITED(LogLevel::Warning, "malformed", "server-groupd sent a malformed %zu-byte message", len);
        return;
    }
    switch (m.body_case()) {
    case service::RelayMessage::kClaimResult: {
        const auto& r = m.claim_result();
        if (!r.accepted()) {
            // EADDRINUSE: a previous guest-scaled may not be gone yet; others need the operator.
            LOG_RATELIMITED(LogLevel::Warning, "claim", "server-groupd refused our claim of %s (%s: %s); retrying",
                            address_.c_str(), std::strerror(r.error()), r.reason().c_str());
            client_.disconnect();
            client_.connect_later();
            return;
        }
        claimed_ = true;
        host_connected_ = r.host_connected();
        client_.reset_backoff();
        LOG_NOTICE("serving %s through server-groupd (host %s)", address_.c_str(),
                   host_connected_ ? "connected" : "not connected yet");
        if (callbacks_.claimed) callbacks_.claimed(true);
        return;
    }
    case service::RelayMessage::kDeliver:
        if (callbacks_.delivered) callbacks_.delivered(m.deliver().source_addr(), m.deliver().data_json());
        return;
    case service::RelayMessage::kSendRefused:
        LOG_RATELIMITED(LogLevel::Warning, "refused", "server-groupd did not send our reply to the host (%s: %s)",
                        std::strerror(m.send_refused().error()), m.send_refused().reason().c_str());
        return;
    case service::RelayMessage::kHostLink:
        host_connected_ = m.host_link().connected();
        LOG_INFO("host %s", host_connected_ ? "connected" : "disconnected");
        return;
    case service::RelayMessage::BODY_NOT_SET:
        break;
    }
    LOG_RATELIMITED(LogLevel::Warning, "unknown", "server-groupd sent a message of no known kind");
}

int RelayLink::send(const std::string& dest_addr, const std::string& data_json) {
    if (!claimed_) return -ENOTCONN;
    service::ServiceMessage m;
    m.mutable_send()->set_dest_addr(dest_addr);
    m.mutable_send()->set_data_json(data_json);
    int rc = client_.send(m.SerializeAsString());
    client_.arm(std::nullopt);
    return rc;
}

}  // namespace gsdk::scale
