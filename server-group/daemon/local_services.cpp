#include "local_services.h"

#include <cerrno>
#include <cstring>

#include "gsdk/json_quick.h"
#include "gsdk/log.h"
#include "server_group_limits.h"

namespace gsdk::sg {

namespace {

void refuse_send(service::RelayMessage* m, int error, const std::string& reason) {
    m->mutable_send_refused()->set_error(error);
    m->mutable_send_refused()->set_reason(reason);
}

}  // namespace

LocalServices::LocalServices(EventLoop& loop, const DaemonConfig& config, UidQuota& quota, MessagingRelay& relay)
    : config_(config), quota_(quota), relay_(relay),
      server_(loop, IpcServer::Callbacks{
                        [this](IpcPeer& p) { accepted(p); },
                        [this](IpcPeer& p, std::string_view m) { message(p, m); },
                        [this](IpcPeer& p) { closed(p); },
                    }),
      refused_peers_(loop, server_) {}

LocalServices::~LocalServices() { shutdown(); }

int LocalServices::listen(const std::string& path) { return server_.listen(path, config_.access.socket_access()); }

void LocalServices::shutdown() {
    for (auto& [id, s] : services_) {
        if (!s.address.empty()) relay_.detach(s.address);
        quota_.release(s.cred.uid);
    }
    services_.clear();
    server_.shutdown();
}

const ReservedAddress* LocalServices::reserved(const std::string& address) const {
    for (const auto& r : config_.local_services)
        if (r.address == address) return &r;
    return nullptr;
}

bool LocalServices::may_claim_any(uid_t uid) const {
    if (uid == 0) return true;
    for (const auto& r : config_.local_services)
        if (!r.root_only && r.owner == uid) return true;
    return false;
}

void LocalServices::reply(IpcPeer& peer, const service::RelayMessage& message) {
    peer.send(message.SerializeAsString());
}

void LocalServices::accepted(IpcPeer& peer) {
    const PeerCredentials& cred = peer.credentials();
    std::string why;
    service::RelayMessage m;
    auto* result = m.mutable_claim_result();
    result->set_accepted(false);
    if (!may_claim_any(cred.uid)) {
        why = "uid " + std::to_string(cred.uid) + " (pid " + std::to_string(cred.pid) +
              ") may claim no address (LOCAL_SERVICES)";
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(cred.uid), "local service refused: %s", why.c_str());
        result->set_error(EACCES);
        result->set_reason(why);
        reply(peer, m);
        refused_peers_.hold(peer);
        return;
    }
    if (!quota_.admit(cred.uid, &why)) {
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(cred.uid), "local service pid %d refused: %s", cred.pid,
                        why.c_str());
        result->set_error(EUSERS);
        result->set_reason(why);
        reply(peer, m);
        refused_peers_.hold(peer);
        return;
    }
    services_.emplace(peer.id(),
                      Service{cred, SendAllowance(config_.broadcast_rate, config_.broadcast_burst), {}, 0, 0});
}

void LocalServices::closed(IpcPeer& peer) {
    refused_peers_.forget(peer.id());
    auto it = services_.find(peer.id());
    if (it == services_.end()) return;
    if (!it->second.address.empty()) {
        relay_.detach(it->second.address);
        LOG_NOTICE("local service %s (pid %d) left; %llu messages delivered, %llu lost", it->second.address.c_str(),
                   it->second.cred.pid, static_cast<unsigned long long>(it->second.delivered),
                   static_cast<unsigned long long>(it->second.lost));
    }
    quota_.release(it->second.cred.uid);
    services_.erase(it);
}

void LocalServices::message(IpcPeer& peer, std::string_view bytes) {
    if (refused_peers_.take_message(peer)) return;
    auto it = services_.find(peer.id());
    if (it == services_.end()) return;
    Service& s = it->second;
    service::ServiceMessage msg;
    if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(peer.id()),
                        "local service pid %d sent a malformed %zu-byte message", s.cred.pid, bytes.size());
        return;
    }
    switch (msg.body_case()) {
    case service::ServiceMessage::kClaim:
        claim(peer, s, msg.claim().address());
        return;
    case service::ServiceMessage::kSend:
        send(peer, s, msg.send());
        return;
    case service::ServiceMessage::BODY_NOT_SET:
        break;
    }
    LOG_RATELIMITED(LogLevel::Warning, std::to_string(peer.id()),
                    "local service pid %d sent a message of no known kind", s.cred.pid);
}

void LocalServices::claim(IpcPeer& peer, Service& s, const std::string& address) {
    service::RelayMessage m;
    auto* result = m.mutable_claim_result();
    result->set_accepted(false);
    const ReservedAddress* r = reserved(address);
    if (!s.address.empty()) {
        result->set_error(EISCONN);
        result->set_reason("this connection already serves " + s.address);
    } else if (!r) {
        result->set_error(ENOENT);
        result->set_reason(address.substr(0, 32) + " is not reserved for a local service (LOCAL_SERVICES)");
    } else if (s.cred.uid != 0 && (r->root_only || r->owner != s.cred.uid)) {
        result->set_error(EACCES);
        result->set_reason("uid " + std::to_string(s.cred.uid) + " may not claim " + address);
    } else if (relay_.attached(address)) {
        result->set_error(EADDRINUSE);
        result->set_reason(address + " is served by another connection");
    } else {
        uint64_t id = peer.id();
        relay_.attach(address, [this, id](const sgwire::Envelope& e) { deliver(id, e); });
        s.address = address;
        result->set_accepted(true);
        result->set_host_connected(relay_.host_connected());
        LOG_NOTICE("local service pid %d uid %u serves %s", s.cred.pid, s.cred.uid, address.c_str());
        reply(peer, m);
        return;
    }
    LOG_RATELIMITED(LogLevel::Warning, std::to_string(s.cred.uid), "claim from pid %d refused: %s", s.cred.pid,
                    result->reason().c_str());
    reply(peer, m);
}

void LocalServices::send(IpcPeer& peer, Service& s, const service::Send& send) {
    service::RelayMessage m;
    if (s.address.empty()) {
        refuse_send(&m, ENOTCONN, "claim an address first");
        return reply(peer, m);
    }
    if (!s.allowance.take()) {
        refuse_send(
            &m, EBUSY,
            "over the rate limit of " + std::to_string(config_.broadcast_rate) + " messages a second (BROADCAST_RATE)");
        return reply(peer, m);
    }
    if (!sgwire::valid_address(send.dest_addr())) {
        refuse_send(&m, EINVAL, "dest_addr is not an address of 1 to 16 plain characters");
        return reply(peer, m);
    }
    if (send.data_json().size() > kMaxHostLine) {
        refuse_send(&m, EMSGSIZE, "data over " + std::to_string(kMaxHostLine) + " bytes");
        return reply(peer, m);
    }
    auto data = nlohmann::json::parse(send.data_json(), nullptr, false);
    if (data.is_discarded() || !data.is_object()) {
        refuse_send(&m, EINVAL, "data_json is not a JSON object");
        return reply(peer, m);
    }
    int rc = relay_.send(s.address, send.dest_addr(), data);
    if (rc == 0) return;
    refuse_send(&m, -rc, rc == -EHOSTDOWN ? "the host is not connected" : std::strerror(-rc));
    reply(peer, m);
}

void LocalServices::deliver(uint64_t id, const sgwire::Envelope& envelope) {
    auto it = services_.find(id);
    IpcPeer* peer = server_.find(id);
    if (it == services_.end() || !peer) return;
    service::RelayMessage m;
    m.mutable_deliver()->set_source_addr(envelope.source_addr);
    m.mutable_deliver()->set_data_json(dump_compact(envelope.data));
    if (peer->send(m.SerializeAsString()) == 0) {
        ++it->second.delivered;
        return;
    }
    ++it->second.lost;
    LOG_RATELIMITED(LogLevel::Warning, it->second.address, "local service %s is not reading: a message from %s dropped",
                    it->second.address.c_str(), envelope.source_addr.c_str());
}

void LocalServices::host_link(bool connected) {
    service::RelayMessage m;
    m.mutable_host_link()->set_connected(connected);
    std::string bytes = m.SerializeAsString();
    for (auto& [id, s] : services_)
        if (IpcPeer* peer = server_.find(id)) peer->send(bytes);
}

}  // namespace gsdk::sg
