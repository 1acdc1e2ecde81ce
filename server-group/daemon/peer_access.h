// Who may use server-groupd: root, the users in ALLOWED_UIDS, and members
// (primary or supplementary) of ALLOWED_GROUPS (default: the group
// guest-sdk). Checked on every connection (SO_PEERCRED) and every original
// library datagram (SCM_CREDENTIALS). A small local unit, to be swapped for
// the shared peer-credential check at the merge.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "gsdk/unix_socket.h"

namespace gsdk::sg {

class PeerAccess {
public:
    // Lists of names or numbers, separated by commas or blanks. Names are
    // resolved now (NSS may block: only at startup); unknown ones are
    // reported in *problems and left out.
    static PeerAccess from_lists(const std::string& uids, const std::string& groups,
                                 std::vector<std::string>* problems);

    // False and *why (naming the uid and the settings) when refused.
    bool allows(const PeerCredentials& peer, std::string* why) const;
    std::string describe() const;

    // Supplementary groups of a process, from /proc/PID/status; empty if gone.
    static std::vector<gid_t> supplementary_groups(pid_t pid);

private:
    std::set<uid_t> uids_;
    std::set<gid_t> gids_;
};

}  // namespace gsdk::sg
