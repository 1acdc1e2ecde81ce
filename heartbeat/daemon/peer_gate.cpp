#include "peer_gate.h"

#include "gsdk/log.h"

namespace gsdk::heartbeat {

PeerGate::PeerGate(const DaemonConfig& config, PeerAccessPolicy policy) : config_(config), policy_(std::move(policy)) {}

void PeerGate::decrement(std::map<uid_t, int>& counts, uid_t uid) {
    auto it = counts.find(uid);
    if (it != counts.end() && --it->second <= 0) counts.erase(it);
}

bool PeerGate::admit(const IpcPeer& peer, Clock::time_point now) {
    const PeerCredentials& cred = peer.credentials();
    std::optional<std::string> refusal = policy_.refusal(cred);
    if (refusal) {
        LOG_RATELIMITED(LogLevel::Warning, "refused uid " + std::to_string(cred.uid),
                        "refused uid %d pid %d: not allowed to register (%s)", static_cast<int>(cred.uid),
                        static_cast<int>(cred.pid), refusal->c_str());
    }
    if (cred.uid != 0) {
        int& waiting = unregistered_per_uid_[cred.uid];
        if (waiting >= config_.max_unregistered_per_uid) {
            if (waiting == 0) unregistered_per_uid_.erase(cred.uid);
            LOG_RATELIMITED(LogLevel::Warning, "idle uid " + std::to_string(cred.uid),
                            "closed a connection of uid %d pid %d: it already has %d unregistered connections "
                            "(MAX_UNREGISTERED_PER_UID)",
                            static_cast<int>(cred.uid), static_cast<int>(cred.pid), config_.max_unregistered_per_uid);
            return false;
        }
        ++waiting;
    }
    unregistered_[peer.id()] = Waiting{cred.uid, now + kRegisterDeadline, std::move(refusal)};
    return true;
}

std::optional<Refusal> PeerGate::check_register(const IpcPeer& peer) const {
    const PeerCredentials& cred = peer.credentials();
    auto it = unregistered_.find(peer.id());
    if (it != unregistered_.end() && it->second.refusal)
        return Refusal{EACCES, "permission denied: " + *it->second.refusal};
    if (cred.uid != 0) {
        auto count = registrations_per_uid_.find(cred.uid);
        int held = count == registrations_per_uid_.end() ? 0 : count->second;
        if (held >= config_.max_registrations_per_uid)
            return Refusal{EUSERS, "too many registrations per user: uid " + std::to_string(cred.uid) + " has " +
                                       std::to_string(held) + " (MAX_REGISTRATIONS_PER_UID)"};
    }
    return std::nullopt;
}

void PeerGate::registered(const IpcPeer& peer) {
    auto it = unregistered_.find(peer.id());
    if (it != unregistered_.end()) {
        if (it->second.uid != 0) decrement(unregistered_per_uid_, it->second.uid);
        unregistered_.erase(it);
    }
    if (peer.credentials().uid != 0) ++registrations_per_uid_[peer.credentials().uid];
}

void PeerGate::closed(const IpcPeer& peer, bool was_registered) {
    auto it = unregistered_.find(peer.id());
    if (it != unregistered_.end()) {
        if (it->second.uid != 0) decrement(unregistered_per_uid_, it->second.uid);
        unregistered_.erase(it);
    }
    if (was_registered && peer.credentials().uid != 0) decrement(registrations_per_uid_, peer.credentials().uid);
}

std::vector<uint64_t> PeerGate::overdue(Clock::time_point now) const {
    std::vector<uint64_t> out;
    for (const auto& [id, w] : unregistered_)
        if (now >= w.deadline) out.push_back(id);
    return out;
}

}  // namespace gsdk::heartbeat
