// The server-group service behind address cgcs.server_grp: host broadcasts
// and notifications fan out to every libserver_group connection and to the
// original library's datagram name; broadcasts and status queries from
// either go to the host after the payload rule and the sender's rate.
#pragma once

#include <memory>
#include <string>

#include "daemon_config.h"
#include "group_clients.h"
#include "gsdk/event_loop.h"
#include "gsdk/peer_access.h"
#include "legacy_datagrams.h"
#include "messaging_relay.h"
#include "status_round.h"
#include "uid_quota.h"

namespace gsdk::sg {

class GroupService {
public:
    GroupService(EventLoop& loop, const DaemonConfig& config, const PeerAccessPolicy& access, UidQuota& quota,
                 MessagingRelay& relay);
    ~GroupService();

    // Listens for libserver_group, binds the original library's name (if
    // enabled) and takes cgcs.server_grp from the relay. 0 or a negative errno.
    int start();
    void stop();
    void host_link(bool connected);

    std::size_t clients() const { return clients_.size(); }

private:
    void from_host(const sgwire::Envelope& envelope);
    void from_legacy(const LegacySender& sender, const sgwire::Envelope& envelope);
    // 0, or a positive errno and *reason.
    int forward_broadcast(const std::string& payload, std::string* reason);
    void to_legacy_library(const std::string& msg_type, const sgwire::Envelope& envelope);

    const DaemonConfig& config_;
    MessagingRelay& relay_;
    GroupClients clients_;
    StatusRound status_;
    std::unique_ptr<LegacyDatagrams> legacy_;
};

}  // namespace gsdk::sg
