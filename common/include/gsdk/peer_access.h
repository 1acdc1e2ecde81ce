// Who may use a daemon's local socket. Decided twice: by the file system
// (the socket and its directory belong to one group, modes 0660/0750, with
// ACL entries for the other allowed users and groups), and by the daemon on
// every connection from the peer's credentials (SO_PEERCRED, SO_PEERGROUPS),
// which a peer cannot forge and which also hold for a descriptor that was
// handed on or a socket reached through a looser directory.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gsdk/unix_socket.h"

namespace gsdk {

// A comma-separated list of group or user names and numbers ("guest-sdk,vnf,
// 1001"). Names are looked up once (at start-up, never in the event loop);
// those that do not exist are returned in *unknown.
std::vector<gid_t> resolve_groups(const std::string& list, std::vector<std::string>* unknown);
std::vector<uid_t> resolve_users(const std::string& list, std::vector<std::string>* unknown);

class PeerAccessPolicy {
public:
    PeerAccessPolicy() = default;  // root only
    PeerAccessPolicy(std::vector<uid_t> uids, std::vector<gid_t> gids);

    // Nothing if the peer may use the socket: root, a listed uid, or a member
    // (primary or supplementary group) of a listed group. Otherwise why not.
    std::optional<std::string> refusal(const PeerCredentials& peer) const;
    const std::vector<uid_t>& uids() const { return uids_; }
    const std::vector<gid_t>& gids() const { return gids_; }

private:
    std::vector<uid_t> uids_;
    std::vector<gid_t> gids_;
};

// How a socket and its directory are made reachable.
struct SocketAccess {
    // The socket's group; none: root only (0600, directory 0700).
    std::optional<gid_t> group;
    // Further principals that must reach it (ACL entries; the daemon's own
    // check still applies to them).
    std::vector<uid_t> extra_uids;
    std::vector<gid_t> extra_gids;
    // The old way, for callers that have not chosen (0666, directory untouched).
    bool world = false;

    static SocketAccess world_writable() {
        SocketAccess a;
        a.world = true;
        return a;
    }
};

// The access keys every daemon's configuration takes, read and resolved the
// same way everywhere (docs/security.md):
//   SOCKET_GROUP   the sockets' group (0660, directory 0750); default guest-sdk
//   ALLOWED_GROUPS who may connect besides root; default the socket group
//   ALLOWED_UIDS   further users allowed; default none
// Names or numbers, comma-separated. A legacy config without the keys keeps
// working for root and the group.
struct AccessSettings {
    std::string socket_group = "guest-sdk";
    std::optional<std::string> allowed_groups;
    std::string allowed_uids;

    // Resolved from the names above by resolve(), once at start-up.
    std::optional<gid_t> socket_gid;  // none: the sockets are root's only
    std::vector<gid_t> allowed_gids;
    std::vector<uid_t> allowed_uid_list;

    // Takes the three keys from a config file's entries.
    void read(const std::map<std::string, std::string>& entries);
    // Looks the names up (NSS may block: start-up only); returns the problems.
    std::vector<std::string> resolve();
    PeerAccessPolicy policy() const { return PeerAccessPolicy(allowed_uid_list, allowed_gids); }
    SocketAccess socket_access() const;
    // "root, groups guest-sdk, uids 1001" for the start-up log line.
    std::string describe() const;
    // At a daemon's start: resolves the names (each problem logged as a
    // warning) and prepares the socket directory; false, with the cause
    // logged, if the directory cannot be made ready.
    bool resolve_and_prepare(const std::string& socket_dir);
    // Whether the three keys read the same (a reload compares them: they change at restart only).
    bool same_keys(const AccessSettings& other) const {
        return socket_group == other.socket_group && allowed_groups == other.allowed_groups &&
               allowed_uids == other.allowed_uids;
    }
};

// The supplementary groups of a running process, from procfs (never
// blocks): for datagram peers, whose SCM_CREDENTIALS carry none.
std::vector<gid_t> process_groups(pid_t pid);

// Creates the directory if missing and gives it our ownership, the group and
// 0750 (0700 without a group) plus ACL entries for the others. Returns 0 or a
// negative errno, with *step naming what failed.
int prepare_socket_directory(const std::string& dir, const SocketAccess& access, std::string* step);
// The same for the socket file: 0660 (0600 without a group).
int restrict_socket_file(const std::string& path, const SocketAccess& access, std::string* step);

}  // namespace gsdk
