// guest-scaled and guest-scale-restore settings (KEY=VALUE file,
// docs/guest-scale.md "Settings"); command-line options override them.
#pragma once

#include <string>
#include <vector>

#include "gsdk/peer_access.h"

namespace gsdk::scale {

struct DaemonConfig {
    std::string sysfs_root = "/sys";                                 // --sysfs-root
    std::string socket_dir = "/run/guest-scale";                     // --socket-dir
    std::string service_socket = "/run/server-group/services.sock";  // SERVICE_SOCKET: server-groupd's
    std::string helper = "/usr/sbin/app_scale_helper";               // APP_SCALE_HELPER ("" = none)
    std::string state_file = "/var/lib/guest-scale/offline_cpus";    // STATE_FILE: last-known offline set
    std::string metadata_url = "http://169.254.169.254/latest/meta-data/offline_cpuset";  // METADATA_URL
    int metadata_timeout_ms = 2000;                                                       // METADATA_TIMEOUT_MS
    std::string config_drive = "/dev/disk/by-label/config-2";  // CONFIG_DRIVE: device or directory

    AccessSettings access;             // SOCKET_GROUP, ALLOWED_GROUPS, ALLOWED_UIDS
    int max_subscribers = 256;         // MAX_SUBSCRIBERS
    int max_subscribers_per_uid = 16;  // MAX_SUBSCRIBERS_PER_UID (root exempt)

    std::string socket_path() const { return socket_dir + "/scale.sock"; }
};

// Applies a config file's text; returns the problems found, each naming the key.
std::vector<std::string> apply_config_text(DaemonConfig* config, const std::string& text, const std::string& origin);
// Reads the file if it exists; false (and *error) only when `required` and unreadable.
bool load_config_file(DaemonConfig* config, const std::string& path, bool required, std::string* error);

}  // namespace gsdk::scale
