#include "group_clients.h"

#include <cerrno>

#include "gsdk/log.h"
#include "server_group_limits.h"

namespace gsdk::sg {

namespace {
constexpr bool GroupClient::*kAlways = nullptr;
constexpr unsigned kMessagesPerWakeup = 16;
}  // namespace

std::string GroupClient::label() const {
    return "pid " + std::to_string(cred.pid) + " uid " + std::to_string(cred.uid) +
           (name.empty() ? std::string() : " (" + name + ")");
}

GroupClients::GroupClients(EventLoop& loop, const DaemonConfig& config, const PeerAccessPolicy& access, UidQuota& quota,
                           Callbacks callbacks)
    : config_(config), access_(access), quota_(quota), callbacks_(std::move(callbacks)),
      server_(loop, IpcServer::Callbacks{
                        [this](IpcPeer& p) { accepted(p); },
                        [this](IpcPeer& p, std::string_view m) { message(p, m); },
                        [this](IpcPeer& p) { closed(p); },
                    }),
      refused_peers_(loop, server_) {
    // A member broadcasting streams its messages: a burst comes in with one
    // wake-up (and leaves for the host in one write), not one per message.
    server_.set_messages_per_wakeup(kMessagesPerWakeup);
}

GroupClients::~GroupClients() { shutdown(); }

int GroupClients::listen(const std::string& path) { return server_.listen(path, config_.access.socket_access()); }

void GroupClients::shutdown() {
    for (auto& [id, client] : clients_) quota_.release(client->cred.uid);
    clients_.clear();
    server_.shutdown();
}

void GroupClients::accepted(IpcPeer& peer) {
    ipc::DaemonMessage reply;
    auto* welcome = reply.mutable_welcome();
    if (auto refusal = access_.refusal(peer.credentials())) {
        std::string why = "not allowed: " + *refusal;
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(peer.credentials().uid), "client refused: %s", why.c_str());
        welcome->set_accepted(false);
        welcome->set_error(EACCES);
        welcome->set_reason(why);
        peer.send(reply.SerializeAsString());
        refused_peers_.hold(peer);
        return;
    }
    if (std::string why; !quota_.admit(peer.credentials().uid, &why)) {
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(peer.credentials().uid), "client pid %d refused: %s",
                        peer.credentials().pid, why.c_str());
        welcome->set_accepted(false);
        welcome->set_error(EUSERS);
        welcome->set_reason(why);
        peer.send(reply.SerializeAsString());
        refused_peers_.hold(peer);
        return;
    }
    auto client = std::make_unique<GroupClient>(GroupClient{
        peer.id(), peer.credentials(), {}, true, true, SendAllowance(config_.broadcast_rate, config_.broadcast_burst)});
    welcome->set_accepted(true);
    welcome->set_max_payload(static_cast<uint32_t>(kMaxPayload));
    welcome->set_host_connected(host_connected);
    peer.send(reply.SerializeAsString());
    // Per user, held back when repeated: a client can connect and leave at line rate.
    LOG_RATELIMITED(LogLevel::Info, std::to_string(peer.credentials().uid), "client %s connected (%zu clients)",
                    client->label().c_str(), clients_.size() + 1);
    clients_.emplace(peer.id(), std::move(client));
}

void GroupClients::closed(IpcPeer& peer) {
    refused_peers_.forget(peer.id());
    auto it = clients_.find(peer.id());
    if (it == clients_.end()) return;
    GroupClient& c = *it->second;
    LOG_RATELIMITED(
        LogLevel::Info, std::to_string(c.cred.uid),
        "client %s left: %llu broadcasts sent, %llu refused; %llu status queries refused; %llu messages lost "
        "(not reading)",
        c.label().c_str(), static_cast<unsigned long long>(c.broadcasts_sent),
        static_cast<unsigned long long>(c.refused), static_cast<unsigned long long>(c.queries_refused),
        static_cast<unsigned long long>(c.lost_total));
    if (callbacks_.departed) callbacks_.departed(c);
    quota_.release(c.cred.uid);
    clients_.erase(it);
}

void GroupClients::message(IpcPeer& peer, std::string_view bytes) {
    if (refused_peers_.take_message(peer)) return;
    auto it = clients_.find(peer.id());
    if (it == clients_.end()) return;
    GroupClient& client = *it->second;
    ipc::ClientMessage msg;
    if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(client.id), "client %s sent a malformed %zu-byte message",
                        client.label().c_str(), bytes.size());
        return;
    }
    switch (msg.body_case()) {
    case ipc::ClientMessage::kHello:
        client.name = msg.hello().client_name().substr(0, 64);
        client.broadcasts = !msg.hello().skip_broadcasts();
        client.notifications = !msg.hello().skip_notifications();
        LOG_DEBUG("client %s said hello", client.label().c_str());
        return;
    case ipc::ClientMessage::kBroadcast: {
        if (!client.allowance.take()) {
            refuse(client, EBUSY, "broadcast",
                   "over the rate limit of " + std::to_string(config_.broadcast_rate) +
                       " messages a second (BROADCAST_RATE)");
            return;
        }
        std::string reason;
        int error = callbacks_.broadcast(client, msg.broadcast().payload(), &reason);
        if (error) {
            refuse(client, error, "broadcast", reason);
            return;
        }
        ++client.broadcasts_sent;
        return;
    }
    case ipc::ClientMessage::kStatusQuery:
        if (!client.allowance.take()) {
            ipc::DaemonMessage reply;
            auto* f = reply.mutable_status_failed();
            f->set_query_id(msg.status_query().query_id());
            f->set_error(EBUSY);
            f->set_reason("over the rate limit (BROADCAST_RATE)");
            send_to(client.id, reply);
            ++client.queries_refused;
            return;
        }
        callbacks_.status_query(client, msg.status_query().query_id());
        return;
    case ipc::ClientMessage::BODY_NOT_SET:
        break;
    }
    LOG_RATELIMITED(LogLevel::Warning, std::to_string(client.id), "client %s sent a message of no known kind",
                    client.label().c_str());
}

void GroupClients::refuse(GroupClient& client, int error, const std::string& msg_type, const std::string& reason) {
    ++client.refused;
    LOG_RATELIMITED(LogLevel::Warning, std::to_string(client.id) + msg_type + std::to_string(error),
                    "%s from client %s refused: %s", msg_type.c_str(), client.label().c_str(), reason.c_str());
    ipc::DaemonMessage reply;
    auto* r = reply.mutable_refused();
    r->set_error(error);
    r->set_msg_type(msg_type);
    r->set_reason(reason);
    send_to(client.id, reply);
}

void GroupClients::deliver(GroupClient& client, IpcPeer& peer, const std::string& bytes) {
    if (client.lost_pending) {
        ipc::DaemonMessage notice;
        notice.mutable_messages_lost()->set_count(client.lost_pending);
        if (peer.send(notice.SerializeAsString()) == 0) client.lost_pending = 0;
    }
    int rc = client.lost_pending ? -ENOBUFS : peer.send(bytes);
    if (rc == 0) return;
    ++client.lost_pending;
    ++client.lost_total;
    LOG_RATELIMITED(LogLevel::Warning, std::to_string(client.id),
                    "client %s is not reading: a message dropped (%llu so far)", client.label().c_str(),
                    static_cast<unsigned long long>(client.lost_total));
}

bool GroupClients::send_to(uint64_t id, const ipc::DaemonMessage& message) {
    auto it = clients_.find(id);
    IpcPeer* peer = server_.find(id);
    if (it == clients_.end() || !peer) return false;
    deliver(*it->second, *peer, message.SerializeAsString());
    return true;
}

void GroupClients::fan_out(const ipc::DaemonMessage& message, bool GroupClient::*wants) {
    std::string bytes = message.SerializeAsString();
    for (auto& [id, client] : clients_) {
        if (wants && !(client.get()->*wants)) continue;
        if (IpcPeer* peer = server_.find(id)) deliver(*client, *peer, bytes);
    }
}

void GroupClients::broadcast(const std::string& source_instance, const std::string& payload) {
    ipc::DaemonMessage m;
    m.mutable_broadcast()->set_source_instance(source_instance);
    m.mutable_broadcast()->set_payload(payload);
    fan_out(m, &GroupClient::broadcasts);
}

void GroupClients::notification(const std::string& json) {
    ipc::DaemonMessage m;
    m.mutable_notification()->set_json(json);
    fan_out(m, &GroupClient::notifications);
}

void GroupClients::host_refused(const std::string& orig_msg_type, const std::string& log_msg) {
    ipc::DaemonMessage m;
    auto* r = m.mutable_refused();
    r->set_error(EPROTO);
    r->set_msg_type(orig_msg_type);
    r->set_reason("the host refused it: " + log_msg);
    fan_out(m, kAlways);
}

void GroupClients::host_link(bool connected) {
    host_connected = connected;
    ipc::DaemonMessage m;
    m.mutable_host_link()->set_connected(connected);
    fan_out(m, kAlways);
}

}  // namespace gsdk::sg
