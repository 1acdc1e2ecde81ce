// guest-heartbeatd settings: the legacy configuration keys plus our own.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "gsdk/peer_access.h"
#include "heartbeat_host_wire.h"

namespace gsdk::heartbeat {

struct DaemonConfig {
    // Legacy keys (guest_heartbeat.conf). Notice values are seconds as
    // configured; 1 s propagation allowance is added when announced in init.
    int heartbeat_interval_ms = 1000;                                               // HB_INTERVAL
    hbwire::CorrectiveAction corrective_action = hbwire::CorrectiveAction::Reboot;  // CORRECTIVE_ACTION
    int vote_secs = 10;                                                             // VOTE
    int shutdown_notice_secs = 10;                                                  // SHUTDOWN_NOTICE
    int suspend_notice_secs = 10;                                                   // SUSPEND_NOTICE
    int resume_notice_secs = 10;                                                    // RESUME_NOTICE
    int restart_secs = 120;                                                         // RESTART
    int health_check_interval_secs = 60;                                            // HEALTH_CHECK_INTERVAL
    std::string health_check_script;                                                // HEALTH_CHECK_SCRIPT
    std::string event_notification_script;                                          // EVENT_NOTIFICATION_SCRIPT

    // Ours.
    int min_application_interval_ms = 100;  // legacy: 400
    int init_delay_ms = 1000;               // INIT_DELAY_MS: first init after start
    int init_retry_ms = 5000;               // INIT_RETRY_MS
    int suppress_repeat_secs = 60;          // SUPPRESS_REPEAT_SECS: same failure not re-reported
    int max_applications = 4096;            // MAX_APPLICATIONS
    // Hold a host challenge up to this share of the interval, answering at
    // once when health changes, so the host hears of a failure sooner; only
    // with a host that offers the "held_challenges" extension.
    int challenge_hold_percent = 50;  // CHALLENGE_HOLD_PERCENT (0 = always answer at once)

    // Who may register (docs/security.md): SOCKET_GROUP, ALLOWED_GROUPS, ALLOWED_UIDS.
    AccessSettings access;
    int max_registrations_per_uid = 64;  // MAX_REGISTRATIONS_PER_UID (root exempt)
    int max_unregistered_per_uid = 8;    // MAX_UNREGISTERED_PER_UID: connections not registered yet
    int failure_retention_secs = 60;     // FAILURE_RETENTION_SECS: a departed application's failure

    std::string guest_name;
    std::string host_channel = "/dev/virtio-ports/cgcs.heartbeat";
    std::string socket_dir = "/run/guest-heartbeat";
    // LEGACY_SOCKET: where binaries bundling the original
    // libguest_heartbeat_api.so.3 connect (its fixed path); "none": not served.
    std::string legacy_socket_path = "/var/run/.guest_heartbeat_api";

    std::string socket_path() const { return socket_dir + "/heartbeat.sock"; }
};

// Applies the KEY=VALUE text of a config file; returns the problems found
// (unknown keys, bad values), each naming the key.
std::vector<std::string> apply_config_text(DaemonConfig* config, const std::string& text, const std::string& origin);

// Sources of the daemon's own findings and votes: no application may take
// these names (it could speak for the scripts, e.g. cancel their veto).
inline constexpr const char* kHealthScriptSource = "health-script";
inline constexpr const char* kEventScriptSource = "event-script";

}  // namespace gsdk::heartbeat
