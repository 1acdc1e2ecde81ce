// Who may register with guest-heartbeatd, and how much each user may hold.
// Every connection's credentials are checked against the allowed uids and
// groups; a peer that is not allowed is answered with EACCES when it
// registers (and one log line, rate-limited). Non-root users are held to
// MAX_UNREGISTERED_PER_UID connections that have not registered yet and to
// MAX_REGISTRATIONS_PER_UID registrations; root is exempt (it could stop the
// daemon anyway) and bounded only by MAX_APPLICATIONS. A connection that has
// not registered within kRegisterDeadline is closed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "gsdk/ipc_server.h"
#include "gsdk/peer_access.h"

namespace gsdk::heartbeat {

inline constexpr Millis kRegisterDeadline{10000};

struct Refusal {
    int error;  // an errno for RegisterResult.error
    std::string reason;
};

class PeerGate {
public:
    PeerGate(const DaemonConfig& config, PeerAccessPolicy policy);

    // A new connection. False: close it now (over the quota; logged).
    bool admit(const IpcPeer& peer, Clock::time_point now);
    // A Register from a connection that has not registered: refused for its
    // credentials or its user's quota, or nothing.
    std::optional<Refusal> check_register(const IpcPeer& peer) const;
    void registered(const IpcPeer& peer);
    // The connection is gone (whether it had registered or not).
    void closed(const IpcPeer& peer, bool was_registered);
    // Connections that have not registered in time.
    std::vector<uint64_t> overdue(Clock::time_point now) const;
    bool has_unregistered() const { return !unregistered_.empty(); }
    std::size_t tracked_uids() const { return unregistered_per_uid_.size() + registrations_per_uid_.size(); }

private:
    struct Waiting {
        uid_t uid;
        Clock::time_point deadline;
        std::optional<std::string> refusal;  // not allowed, and why
    };
    static void decrement(std::map<uid_t, int>& counts, uid_t uid);

    const DaemonConfig& config_;
    PeerAccessPolicy policy_;
    std::map<uint64_t, Waiting> unregistered_;
    std::map<uid_t, int> unregistered_per_uid_;   // non-root only
    std::map<uid_t, int> registrations_per_uid_;  // non-root only
};

}  // namespace gsdk::heartbeat
