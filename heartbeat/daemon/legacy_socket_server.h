// The original libraries' private stream socket (LEGACY_SOCKET, default
// /var/run/.guest_heartbeat_api): binaries that bundle the original
// libguest_heartbeat_api.so.3 connect here, unchanged. Each connection gets
// a LegacyClientBridge into the ApplicationRegistry. The socket's group and
// mode are those of our own socket; each connection's credentials meet the
// same policy there, and a non-root user may hold no more legacy connections
// than its registration and idle-connection quotas together allow.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "application_registry.h"
#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "gsdk/unix_listener.h"
#include "legacy_client_bridge.h"

namespace gsdk::heartbeat {

class LegacySocketServer {
public:
    LegacySocketServer(EventLoop& loop, const DaemonConfig& config, ApplicationRegistry& registry);
    ~LegacySocketServer();

    int listen(const std::string& path);
    void shutdown();
    std::size_t connections() const { return bridges_.size(); }
    // Serves an already connected client (the accept path, and the fuzz target).
    LegacyClientBridge* serve(int fd, PeerCredentials cred);

private:
    void finished(LegacyClientBridge& bridge);

    EventLoop& loop_;
    const DaemonConfig& config_;
    ApplicationRegistry& registry_;
    UnixListener listener_;
    std::map<LegacyClientBridge*, std::unique_ptr<LegacyClientBridge>> bridges_;
    std::map<uid_t, int> per_uid_;  // non-root only
    std::vector<std::unique_ptr<LegacyClientBridge>> doomed_;
    Timer reaper_;
};

}  // namespace gsdk::heartbeat
