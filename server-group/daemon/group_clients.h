// The processes of this VM that use libserver_group: one SOCK_SEQPACKET
// connection each, checked at accept (peer credentials, per-user quota).
// Every connection receives every broadcast and notification; a connection
// that stops reading loses messages (counted, and told how many once it
// reads again) while the others go on.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "gsdk/ipc_server.h"
#include "gsdk/peer_access.h"
#include "refused_peers.h"
#include "send_allowance.h"
#include "server_group_ipc.pb.h"
#include "uid_quota.h"

namespace gsdk::sg {

namespace ipc = ::gsdk::server_group::ipc;

struct GroupClient {
    uint64_t id = 0;
    PeerCredentials cred;
    std::string name;  // from Hello, for log lines
    bool broadcasts = true;
    bool notifications = true;
    SendAllowance allowance;
    uint64_t lost_pending = 0;  // not yet told
    uint64_t lost_total = 0;
    uint64_t broadcasts_sent = 0;
    uint64_t refused = 0;  // broadcasts
    uint64_t queries_refused = 0;

    std::string label() const;
};

class GroupClients {
public:
    struct Callbacks {
        // A broadcast to forward: 0, or a positive errno and *reason.
        std::function<int(GroupClient&, const std::string& payload, std::string* reason)> broadcast;
        std::function<void(GroupClient&, uint32_t query_id)> status_query;
        std::function<void(GroupClient&)> departed;
    };

    GroupClients(EventLoop& loop, const DaemonConfig& config, const PeerAccessPolicy& access, UidQuota& quota,
                 Callbacks callbacks);
    ~GroupClients();

    int listen(const std::string& path);
    void shutdown();

    void broadcast(const std::string& source_instance, const std::string& payload);
    void notification(const std::string& json);
    // A host nack, told to every connection (nobody knows whose message it was).
    void host_refused(const std::string& orig_msg_type, const std::string& log_msg);
    void host_link(bool connected);

    // To one connection, with loss accounting; false if it is gone.
    bool send_to(uint64_t id, const ipc::DaemonMessage& message);
    void refuse(GroupClient& client, int error, const std::string& msg_type, const std::string& reason);

    std::size_t size() const { return clients_.size(); }
    bool host_connected = false;

private:
    void accepted(IpcPeer& peer);
    void message(IpcPeer& peer, std::string_view bytes);
    void closed(IpcPeer& peer);
    // Sends serialized bytes to one client, first telling it of earlier losses.
    void deliver(GroupClient& client, IpcPeer& peer, const std::string& bytes);
    void fan_out(const ipc::DaemonMessage& message, bool GroupClient::*wants);

    const DaemonConfig& config_;
    const PeerAccessPolicy& access_;
    UidQuota& quota_;
    Callbacks callbacks_;
    IpcServer server_;
    RefusedPeers refused_peers_;
    std::unordered_map<uint64_t, std::unique_ptr<GroupClient>> clients_;
};

}  // namespace gsdk::sg
