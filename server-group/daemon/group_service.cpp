#include "group_service.h"

#include <cerrno>
#include <cstring>

#include "gsdk/log.h"
#include "payload_rule.h"
#include "server_group_layer.h"
#include "server_group_limits.h"

namespace gsdk::sg {

namespace {

// One libserver_group connection waiting for a status answer.
class ClientAsker : public StatusAsker {
public:
    ClientAsker(GroupClients& clients, uint64_t id, uint32_t query_id)
        : clients_(clients), id_(id), query_id_(query_id) {}
    void member(const std::string& json) override {
        ipc::DaemonMessage m;
        m.mutable_status_member()->set_query_id(query_id_);
        m.mutable_status_member()->set_json(json);
        clients_.send_to(id_, m);
    }
    void done(uint32_t count) override {
        ipc::DaemonMessage m;
        m.mutable_status_done()->set_query_id(query_id_);
        m.mutable_status_done()->set_member_count(count);
        clients_.send_to(id_, m);
    }
    void failed(int error, const std::string& reason) override {
        ipc::DaemonMessage m;
        m.mutable_status_failed()->set_query_id(query_id_);
        m.mutable_status_failed()->set_error(error);
        m.mutable_status_failed()->set_reason(reason);
        clients_.send_to(id_, m);
    }

private:
    GroupClients& clients_;
    uint64_t id_;
    uint32_t query_id_;
};

// The original library waiting for a status answer: it matches the host's
// messages against its own seq, so the answer is retold with that seq.
class LegacyAsker : public StatusAsker {
public:
    LegacyAsker(LegacyDatagrams& legacy, std::string name, int64_t seq)
        : legacy_(legacy), name_(std::move(name)), seq_(seq) {}
    void member(const std::string& json) override {
        send(sgwire::encode_host_message(sgwire::StatusResponse{seq_, json}));
    }
    void done(uint32_t) override { send(sgwire::encode_host_message(sgwire::StatusResponseDone{seq_})); }
    void failed(int, const std::string& reason) override {
        send(sgwire::encode_host_message(sgwire::HostNack{"status query failed: " + reason, "status_query"}));
    }

private:
    void send(const nlohmann::json& data) {
        int rc = legacy_.send_to(name_, sgwire::encode_for_legacy_library(kServerGroupAddress, data));
        if (rc < 0)
            LOG_RATELIMITED(
                LogLevel::Warning, name_, "status answer not delivered to the original library: %s",
                rc == -EMSGSIZE ? "a member is larger than it can receive (4096 bytes)" : std::strerror(-rc));
    }
    LegacyDatagrams& legacy_;
    std::string name_;
    int64_t seq_;
};

std::string client_key(uint64_t id) { return "client:" + std::to_string(id); }

}  // namespace

GroupService::GroupService(EventLoop& loop, const DaemonConfig& config, const PeerAccessPolicy& access, UidQuota& quota,
                           MessagingRelay& relay)
    : config_(config), relay_(relay),
      clients_(loop, config, access, quota,
               GroupClients::Callbacks{
                   [this](GroupClient&, const std::string& payload, std::string* reason) {
                       return forward_broadcast(payload, reason);
                   },
                   [this](GroupClient& c, uint32_t query_id) {
                       status_.ask(client_key(c.id), std::make_unique<ClientAsker>(clients_, c.id, query_id));
                   },
                   [this](GroupClient& c) { status_.forget(client_key(c.id)); },
               }),
      status_(loop, StatusRound::Limits{Millis(config.status_timeout_ms), kMaxStatusMembers, kMaxStatusBytes},
              [this](int64_t seq) {
                  return relay_.send(kServerGroupAddress, kServerGroupAddress,
                                     sgwire::encode_guest_message(sgwire::StatusQuery{seq}));
              }) {
    if (config.legacy_datagrams)
        legacy_ = std::make_unique<LegacyDatagrams>(
            loop, config, access, [this](const LegacySender& s, const sgwire::Envelope& e) { from_legacy(s, e); },
            config.legacy_agent_name);
}

GroupService::~GroupService() { stop(); }

int GroupService::start() {
    if (int rc = clients_.listen(config_.client_socket()); rc < 0) return rc;
    relay_.attach(kServerGroupAddress, [this](const sgwire::Envelope& e) { from_host(e); });
    if (legacy_) legacy_->start();
    return 0;
}

void GroupService::stop() {
    relay_.detach(kServerGroupAddress);
    if (legacy_) legacy_->stop();
    clients_.shutdown();
}

void GroupService::host_link(bool connected) {
    clients_.host_link(connected);
    if (!connected) status_.host_lost();
}

int GroupService::forward_broadcast(const std::string& payload, std::string* reason) {
    PayloadVerdict verdict = check_payload(payload.data(), payload.size());
    if (verdict != PayloadVerdict::Ok) {
        *reason = std::string("the payload ") + describe(verdict);
        return payload_errno(verdict);
    }
    int rc = relay_.send(kServerGroupAddress, kServerGroupAddress,
                         sgwire::encode_guest_message(sgwire::OutgoingBroadcast{payload}));
    if (rc == 0) return 0;
    if (rc == -EHOSTDOWN)
        *reason = "the host is not connected";
    else if (rc == -ENOBUFS)
        *reason = "the host is not reading (the port's output is full)";
    else
        *reason = std::strerror(-rc);
    return -rc;
}

void GroupService::from_host(const sgwire::Envelope& envelope) {
    auto decoded = sgwire::decode_host_message(envelope.data);
    if (auto* bad = std::get_if<sgwire::LayerError>(&decoded)) {
        LOG_RATELIMITED(
            LogLevel::Warning, bad->msg_type + bad->detail, "dropped a server-group message from the host (%s%s%s)",
            bad->msg_type.empty() ? "" : bad->msg_type.c_str(), bad->msg_type.empty() ? "" : ": ", bad->detail.c_str());
        return;
    }
    const auto& message = std::get<sgwire::HostGroupMessage>(decoded);
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, sgwire::GroupBroadcast>) {
                clients_.broadcast(m.source_instance, m.payload);
                to_legacy_library("broadcast", envelope);
            } else if constexpr (std::is_same_v<T, sgwire::GroupNotification>) {
                clients_.notification(m.text);
                to_legacy_library("notification", envelope);
            } else if constexpr (std::is_same_v<T, sgwire::StatusResponse>) {
                status_.response(m.seq, m.member_json);
            } else if constexpr (std::is_same_v<T, sgwire::StatusResponseDone>) {
                status_.response_done(m.seq);
            } else {
                LOG_RATELIMITED(LogLevel::Warning, m.orig_msg_type, "the host refused our %s: %s",
                                m.orig_msg_type.empty() ? "message" : m.orig_msg_type.c_str(), m.log_msg.c_str());
                if (m.orig_msg_type == "status_query") {
                    status_.host_refused(m.log_msg);
                } else {
                    clients_.host_refused(m.orig_msg_type, m.log_msg);
                    to_legacy_library("nack", envelope);
                }
            }
        },
        message);
}

void GroupService::to_legacy_library(const std::string& msg_type, const sgwire::Envelope& envelope) {
    if (!legacy_ || !legacy_->bound()) return;
    int rc = legacy_->send_to(kLegacyGroupLibraryName,
                              sgwire::encode_for_legacy_library(envelope.source_addr, envelope.data));
    if (rc == 0 || rc == -ECONNREFUSED) return;  // refused: no process uses the original library
    if (rc == -EMSGSIZE)
        LOG_RATELIMITED(LogLevel::Warning, msg_type,
                        "a %s is larger than the original library can receive (4096 bytes); not delivered to it",
                        msg_type.c_str());
    else
        LOG_RATELIMITED(LogLevel::Warning, msg_type + std::to_string(rc),
                        "a %s not delivered to the original library: %s", msg_type.c_str(),
                        rc == -EAGAIN ? "it is not reading" : std::strerror(-rc));
}

void GroupService::from_legacy(const LegacySender& sender, const sgwire::Envelope& envelope) {
    if (sender.name != kLegacyGroupLibraryName || envelope.dest_addr != kServerGroupAddress) {
        LOG_RATELIMITED(LogLevel::Warning, sender.name,
                        "datagram from %s (pid %d) to %s refused: only the server-group library's messages "
                        "(cgcs.server_grp to cgcs.server_grp) are relayed",
                        sender.name.c_str(), sender.cred.pid, envelope.dest_addr.c_str());
        legacy_->refuse(sender, "only cgcs.server_grp to cgcs.server_grp is relayed");
        return;
    }
    auto decoded = sgwire::decode_guest_message(envelope.data);
    if (auto* bad = std::get_if<sgwire::LayerError>(&decoded)) {
        LOG_RATELIMITED(LogLevel::Warning, bad->detail, "datagram from pid %d refused: %s%s%s", sender.cred.pid,
                        bad->msg_type.c_str(), bad->msg_type.empty() ? "" : ": ", bad->detail.c_str());
        legacy_->refuse(sender, (bad->msg_type.empty() ? "" : bad->msg_type + ": ") + bad->detail);
        return;
    }
    const auto& message = std::get<sgwire::GuestGroupMessage>(decoded);
    if (auto* b = std::get_if<sgwire::OutgoingBroadcast>(&message)) {
        std::string reason;
        if (int error = forward_broadcast(b->payload, &reason); error) {
            LOG_RATELIMITED(LogLevel::Warning, reason, "broadcast from the original library (pid %d) refused: %s",
                            sender.cred.pid, reason.c_str());
            legacy_->refuse(sender, "broadcast refused: " + reason);
        }
        return;
    }
    const auto& query = std::get<sgwire::StatusQuery>(message);
    status_.ask("legacy:" + sender.name, std::make_unique<LegacyAsker>(*legacy_, sender.name, query.seq));
}

}  // namespace gsdk::sg
