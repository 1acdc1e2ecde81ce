#include "peer_access.h"

#include <grp.h>
#include <pwd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace gsdk::sg {

namespace {

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t') {
            if (!item.empty()) out.push_back(item);
            item.clear();
        } else {
            item += c;
        }
    }
    if (!item.empty()) out.push_back(item);
    return out;
}

bool as_number(const std::string& s, unsigned long* out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 10) return false;
    *out = std::strtoul(s.c_str(), nullptr, 10);
    return true;
}

}  // namespace

PeerAccess PeerAccess::from_lists(const std::string& uids, const std::string& groups,
                                  std::vector<std::string>* problems) {
    PeerAccess access;
    for (const auto& item : split_list(uids)) {
        unsigned long n;
        if (as_number(item, &n)) {
            access.uids_.insert(static_cast<uid_t>(n));
        } else if (passwd* pw = ::getpwnam(item.c_str())) {
            access.uids_.insert(pw->pw_uid);
        } else {
            problems->push_back("ALLOWED_UIDS: no user " + item + "; left out");
        }
    }
    for (const auto& item : split_list(groups)) {
        unsigned long n;
        if (as_number(item, &n)) {
            access.gids_.insert(static_cast<gid_t>(n));
        } else if (group* gr = ::getgrnam(item.c_str())) {
            access.gids_.insert(gr->gr_gid);
        } else {
            problems->push_back("ALLOWED_GROUPS: no group " + item + "; left out");
        }
    }
    return access;
}

std::vector<gid_t> PeerAccess::supplementary_groups(pid_t pid) {
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

bool PeerAccess::allows(const PeerCredentials& peer, std::string* why) const {
    if (peer.uid == 0 || uids_.count(peer.uid) || gids_.count(peer.gid)) return true;
    if (!gids_.empty() && peer.pid > 0) {
        // The kernel gives the primary group only; a member through a
        // supplementary group is found in procfs (never blocks).
        for (gid_t g : supplementary_groups(peer.pid))
            if (gids_.count(g)) return true;
    }
    *why = "uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) +
           ") is not allowed: not root, not in ALLOWED_UIDS, not in ALLOWED_GROUPS (" + describe() + ")";
    return false;
}

std::string PeerAccess::describe() const {
    std::string out = "uids 0";
    for (uid_t u : uids_) out += "," + std::to_string(u);
    out += "; gids ";
    if (gids_.empty()) out += "none";
    bool first = true;
    for (gid_t g : gids_) {
        out += (first ? "" : ",") + std::to_string(g);
        first = false;
    }
    return out;
}

}  // namespace gsdk::sg
