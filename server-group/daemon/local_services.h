// Local services reached through cgcs.messaging by address (guest-scaled at
// cgcs.scale): a service connects to the service socket, claims an address
// reserved for it in LOCAL_SERVICES (root, or the one user named there),
// then receives what the host sends to that address and sends replies to
// the host with the dest_addr it chooses. One claim per address at a time.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "gsdk/ipc_server.h"
#include "local_service_ipc.pb.h"
#include "messaging_relay.h"
#include "refused_peers.h"
#include "send_allowance.h"
#include "uid_quota.h"

namespace gsdk::sg {

namespace service = ::gsdk::server_group::service;

class LocalServices {
public:
    LocalServices(EventLoop& loop, const DaemonConfig& config, UidQuota& quota, MessagingRelay& relay);
    ~LocalServices();

    int listen(const std::string& path);
    void shutdown();
    void host_link(bool connected);

private:
    struct Service {
        PeerCredentials cred;
        SendAllowance allowance;
        std::string address;  // empty until claimed
        uint64_t delivered = 0;
        uint64_t lost = 0;
    };

    void accepted(IpcPeer& peer);
    void message(IpcPeer& peer, std::string_view bytes);
    void closed(IpcPeer& peer);
    void claim(IpcPeer& peer, Service& service, const std::string& address);
    void send(IpcPeer& peer, Service& service, const service::Send& send);
    void deliver(uint64_t id, const sgwire::Envelope& envelope);
    void reply(IpcPeer& peer, const service::RelayMessage& message);
    const ReservedAddress* reserved(const std::string& address) const;
    bool may_claim_any(uid_t uid) const;

    const DaemonConfig& config_;
    UidQuota& quota_;
    MessagingRelay& relay_;
    IpcServer server_;
    RefusedPeers refused_peers_;
    std::unordered_map<uint64_t, Service> services_;
};

}  // namespace gsdk::sg
