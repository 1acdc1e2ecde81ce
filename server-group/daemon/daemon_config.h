// server-groupd settings (KEY=VALUE file, docs/server-group.md "Settings").
#pragma once

#include "gsdk/peer_access.h"

#include <sys/types.h>

#include <string>
#include <vector>

namespace gsdk::sg {

// An address of cgcs.messaging that a local service may claim, and the one
// user besides root that may claim it.
struct ReservedAddress {
    std::string address;
    bool root_only = true;  // no user named: root only
    uid_t owner = 0;
};

struct DaemonConfig {
    std::string host_channel = "/dev/virtio-ports/cgcs.messaging";
    std::string socket_dir = "/run/server-group";

    AccessSettings access;         // SOCKET_GROUP, ALLOWED_GROUPS, ALLOWED_UIDS (docs/security.md)
    int status_timeout_ms = 5000;  // STATUS_TIMEOUT_MS: the host's time to finish a status answer
    int max_clients = 1024;        // MAX_CLIENTS: connections on both sockets
    int max_clients_per_uid = 64;  // MAX_CLIENTS_PER_UID
    int broadcast_rate = 100;      // BROADCAST_RATE: broadcasts + queries per second per sender
    int broadcast_burst = 200;     // BROADCAST_BURST
    bool legacy_datagrams = true;  // LEGACY_DATAGRAMS: serve the original library's abstract sockets
    std::vector<ReservedAddress> local_services{{"cgcs.scale", true, 0}};  // LOCAL_SERVICES
    // Not a setting: the fuzz harness binds a name of its own.
    std::string legacy_agent_name = "cgcs.messaging";

    std::string client_socket() const { return socket_dir + "/client.sock"; }
    std::string service_socket() const { return socket_dir + "/services.sock"; }
};

// Applies the KEY=VALUE text of a config file; returns the problems found
// (unknown keys, bad values), each naming the key. Resolves user names, so
// only at startup.
std::vector<std::string> apply_config_text(DaemonConfig* config, const std::string& text, const std::string& origin);

}  // namespace gsdk::sg
