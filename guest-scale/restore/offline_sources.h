// Where guest-scale-restore learns which CPUs were offline before this boot,
// in the order it asks: the metadata service (the host's word,
// offline_cpuset), a config drive (label config-2), and the daemon's own
// last-known state file. Each answers a set, or says why it has none
// (absent, unreachable, malformed); nothing here is fatal. Blocking I/O,
// bounded in time and size: a oneshot at boot, no event loop.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gsdk::scale {

struct SourceAnswer {
    std::optional<std::vector<unsigned>> offline;  // nullopt: no usable answer
    std::string detail;                            // where it came from, or why there is none
};

// GET url (http only) within timeout_ms; 404 means "absent".
SourceAnswer offline_from_metadata(const std::string& url, int timeout_ms);
// A directory holding the drive's files, or a device mounted read-only (ISO
// 9660 or VFAT) for the time of the read: ec2/latest/meta-data.json
// (offline_cpuset), then openstack/latest/meta_data.json (meta.offline_cpuset).
SourceAnswer offline_from_config_drive(const std::string& path);
SourceAnswer offline_from_state_file(const std::string& path);

}  // namespace gsdk::scale
