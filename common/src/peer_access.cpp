#include "gsdk/peer_access.h"

#include <fstream>
#include <sstream>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "gsdk/log.h"

namespace gsdk {

namespace {

std::vector<std::string> split_list(const std::string& list) {
    std::vector<std::string> out;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

std::optional<unsigned long> number(const std::string& text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), ::isdigit) || text.size() > 10) return std::nullopt;
    unsigned long v = std::stoul(text);
    if (v >= UINT32_MAX) return std::nullopt;  // (uid_t)-1 means "no change", never a principal
    return v;
}

std::optional<gid_t> lookup_group(const std::string& name) {
    if (auto n = number(name)) return static_cast<gid_t>(*n);
    std::vector<char> buf(16384);
    group g;
    group* found = nullptr;
    if (::getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &found) != 0 || !found) return std::nullopt;
    return found->gr_gid;
}

std::optional<uid_t> lookup_user(const std::string& name) {
    if (auto n = number(name)) return static_cast<uid_t>(*n);
    std::vector<char> buf(16384);
    passwd p;
    passwd* found = nullptr;
    if (::getpwnam_r(name.c_str(), &p, buf.data(), buf.size(), &found) != 0 || !found) return std::nullopt;
    return found->pw_uid;
}

// The kernel's POSIX ACL xattr layout ("system.posix_acl_access").
struct AclHeader {
    uint32_t version;
};
struct AclEntry {
    uint16_t tag;
    uint16_t perm;
    uint32_t id;
};
constexpr uint32_t kAclVersion = 2;
constexpr uint16_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kGroup = 0x08, kMask = 0x10, kOther = 0x20;
constexpr uint32_t kUndefinedId = UINT32_MAX;

// Owner full, the group and every extra principal `perm`, others nothing.
int set_acl(const std::string& path, uint16_t owner_perm, uint16_t perm, const SocketAccess& access) {
    std::vector<uint32_t> uids(access.extra_uids.begin(), access.extra_uids.end());
    std::vector<uint32_t> gids(access.extra_gids.begin(), access.extra_gids.end());
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    std::sort(gids.begin(), gids.end());
    gids.erase(std::unique(gids.begin(), gids.end()), gids.end());
    std::vector<AclEntry> entries;
    entries.push_back({kUserObj, owner_perm, kUndefinedId});
    for (uint32_t u : uids) entries.push_back({kUser, perm, u});
    entries.push_back({kGroupObj, static_cast<uint16_t>(access.group ? perm : 0), kUndefinedId});
    for (uint32_t g : gids) entries.push_back({kGroup, perm, g});
    entries.push_back({kMask, perm, kUndefinedId});
    entries.push_back({kOther, 0, kUndefinedId});
    std::string blob(sizeof(AclHeader) + entries.size() * sizeof(AclEntry), '\0');
    AclHeader header{kAclVersion};
    std::memcpy(blob.data(), &header, sizeof header);
    std::memcpy(blob.data() + sizeof header, entries.data(), entries.size() * sizeof(AclEntry));
    if (::setxattr(path.c_str(), "system.posix_acl_access", blob.data(), blob.size(), 0) < 0) return -errno;
    return 0;
}

int apply(const std::string& path, mode_t with_group, mode_t without_group, uint16_t owner_perm, uint16_t perm,
          const SocketAccess& access, std::string* step) {
    if (::chown(path.c_str(), ::geteuid(), access.group ? *access.group : ::getegid()) < 0) {
        *step = "chown " + path;
        return -errno;
    }
    if (::chmod(path.c_str(), access.group ? with_group : without_group) < 0) {
        *step = "chmod " + path;
        return -errno;
    }
    if (access.extra_uids.empty() && access.extra_gids.empty()) return 0;
    if (int rc = set_acl(path, owner_perm, perm, access); rc < 0) {
        *step = "setting the ACL of " + path;
        return rc;
    }
    return 0;
}

}  // namespace

std::vector<gid_t> resolve_groups(const std::string& list, std::vector<std::string>* unknown) {
    std::vector<gid_t> out;
    for (const auto& name : split_list(list)) {
        if (auto g = lookup_group(name))
            out.push_back(*g);
        else if (unknown)
            unknown->push_back(name);
    }
    return out;
}

std::vector<uid_t> resolve_users(const std::string& list, std::vector<std::string>* unknown) {
    std::vector<uid_t> out;
    for (const auto& name : split_list(list)) {
        if (auto u = lookup_user(name))
            out.push_back(*u);
        else if (unknown)
            unknown->push_back(name);
    }
    return out;
}

PeerAccessPolicy::PeerAccessPolicy(std::vector<uid_t> uids, std::vector<gid_t> gids)
    : uids_(std::move(uids)), gids_(std::move(gids)) {}

std::optional<std::string> PeerAccessPolicy::refusal(const PeerCredentials& peer) const {
    if (peer.uid == 0) return std::nullopt;
    if (std::find(uids_.begin(), uids_.end(), peer.uid) != uids_.end()) return std::nullopt;
    for (gid_t g : gids_) {
        if (peer.gid == g) return std::nullopt;
        if (std::find(peer.groups.begin(), peer.groups.end(), g) != peer.groups.end()) return std::nullopt;
    }
    std::string why = "uid " + std::to_string(peer.uid) + " is not root, not an allowed uid";
    if (gids_.empty()) return why + ", and no group is allowed";
    why += ", and not a member of an allowed group (";
    for (std::size_t i = 0; i < gids_.size(); ++i) why += (i ? "," : "") + std::to_string(gids_[i]);
    return why + ")";
}

int prepare_socket_directory(const std::string& dir, const SocketAccess& access, std::string* step) {
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
        *step = "creating " + dir;
        return -errno;
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) < 0) {
        *step = "stat " + dir;
        return -errno;
    }
    if (!S_ISDIR(st.st_mode)) {
        *step = "creating " + dir;
        return -ENOTDIR;
    }
    if (access.world) return 0;
    return apply(dir, 0750, 0700, 7, 5, access, step);
}

int restrict_socket_file(const std::string& path, const SocketAccess& access, std::string* step) {
    if (access.world) {
        if (::chmod(path.c_str(), 0666) < 0) {
            *step = "chmod " + path;
            return -errno;
        }
        return 0;
    }
    return apply(path, 0660, 0600, 6, 6, access, step);
}

void AccessSettings::read(const std::map<std::string, std::string>& entries) {
    if (auto it = entries.find("SOCKET_GROUP"); it != entries.end()) socket_group = it->second;
    if (auto it = entries.find("ALLOWED_GROUPS"); it != entries.end()) allowed_groups = it->second;
    if (auto it = entries.find("ALLOWED_UIDS"); it != entries.end()) allowed_uids = it->second;
}

std::vector<std::string> AccessSettings::resolve() {
    std::vector<std::string> problems;
    std::vector<std::string> unknown;
    socket_gid.reset();
    if (!socket_group.empty()) {
        auto g = resolve_groups(socket_group, &unknown);
        if (!g.empty()) socket_gid = g.front();
        for (const auto& name : unknown)
            problems.push_back(
                "SOCKET_GROUP: group " + name +
                " does not exist; the sockets are root's only (create the group, e.g. groupadd --system " + name + ")");
        unknown.clear();
    }
    if (allowed_groups) {
        allowed_gids = resolve_groups(*allowed_groups, &unknown);
        for (const auto& name : unknown)
            problems.push_back("ALLOWED_GROUPS: group " + name + " does not exist; ignored");
        unknown.clear();
    } else {
        allowed_gids.clear();
        if (socket_gid) allowed_gids.push_back(*socket_gid);
    }
    allowed_uid_list = resolve_users(allowed_uids, &unknown);
    for (const auto& name : unknown) problems.push_back("ALLOWED_UIDS: user " + name + " does not exist; ignored");
    return problems;
}

SocketAccess AccessSettings::socket_access() const {
    SocketAccess access;
    access.group = socket_gid;
    access.extra_uids = allowed_uid_list;
    for (gid_t g : allowed_gids)
        if (!socket_gid || g != *socket_gid) access.extra_gids.push_back(g);
    return access;
}

std::string AccessSettings::describe() const {
    std::string out = "root";
    if (!allowed_gids.empty()) out += ", groups " + (allowed_groups ? *allowed_groups : socket_group);
    if (!allowed_uid_list.empty()) out += ", uids " + allowed_uids;
    return out;
}

std::vector<gid_t> process_groups(pid_t pid) {
    std::vector<gid_t> out;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("Groups:", 0) != 0) continue;
        std::istringstream items(line.substr(7));
        unsigned long gid;
        while (out.size() < 65536 && items >> gid) out.push_back(static_cast<gid_t>(gid));
        break;
    }
    return out;
}

bool AccessSettings::resolve_and_prepare(const std::string& socket_dir) {
    for (const auto& problem : resolve()) LOG_WARN("%s", problem.c_str());
    std::string step;
    if (int rc = prepare_socket_directory(socket_dir, socket_access(), &step); rc < 0) {
        LOG_ERROR("cannot prepare the socket directory %s (%s): %s", socket_dir.c_str(), step.c_str(),
                  std::strerror(-rc));
        return false;
    }
    return true;
}

}  // namespace gsdk
