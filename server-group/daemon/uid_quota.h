// Connections per user and in all: admitted at accept, released at close.
// Shared by the client and the service socket, so that one user cannot take
// every descriptor of the daemon.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <unordered_map>

namespace gsdk::sg {

class UidQuota {
public:
    UidQuota(std::size_t total, std::size_t per_uid) : total_limit_(total), per_uid_limit_(per_uid) {}

    // False (and *why) when the user or the daemon is at its limit.
    bool admit(uid_t uid, std::string* why) {
        if (total_ >= total_limit_) {
            *why = "the daemon serves its maximum of " + std::to_string(total_limit_) + " connections (MAX_CLIENTS)";
            return false;
        }
        std::size_t& mine = per_uid_[uid];
        if (mine >= per_uid_limit_) {
            *why = "uid " + std::to_string(uid) + " already holds " + std::to_string(mine) +
                   " connections (MAX_CLIENTS_PER_UID)";
            return false;
        }
        ++mine;
        ++total_;
        return true;
    }
    void release(uid_t uid) {
        auto it = per_uid_.find(uid);
        if (it == per_uid_.end()) return;
        if (--it->second == 0) per_uid_.erase(it);
        --total_;
    }
    std::size_t total() const { return total_; }

private:
    std::size_t total_limit_;
    std::size_t per_uid_limit_;
    std::size_t total_ = 0;
    std::unordered_map<uid_t, std::size_t> per_uid_;
};

}  // namespace gsdk::sg
