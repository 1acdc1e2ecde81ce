#include "legacy_socket_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include "gsdk/log.h"

namespace gsdk::heartbeat {

namespace {
constexpr int kBacklog = 32;  // as the original daemon listened
}

LegacySocketServer::LegacySocketServer(EventLoop& loop, const DaemonConfig& config, ApplicationRegistry& registry)
    : loop_(loop), config_(config), registry_(registry),
      listener_(loop, UnixListener::Callbacks{[this](int fd, PeerCredentials cred) { serve(fd, std::move(cred)); },
                                              [this] { return bridges_.size(); }}),
      reaper_(loop, [this] { doomed_.clear(); }) {}

LegacySocketServer::~LegacySocketServer() { shutdown(); }

int LegacySocketServer::listen(const std::string& path) {
    // The original unlinked whatever was there; a stale socket of a previous
    // run is replaced the same way (bound beside, renamed over it).
    return listener_.listen(path, config_.access.socket_access(), SOCK_STREAM, kBacklog);
}

void LegacySocketServer::shutdown() {
    listener_.shutdown();
    bridges_.clear();
    doomed_.clear();
    per_uid_.clear();
}

LegacyClientBridge* LegacySocketServer::serve(int fd, PeerCredentials cred) {
    const uid_t uid = cred.uid;
    if (uid != 0) {
        int& held = per_uid_[uid];
        const int limit = config_.max_registrations_per_uid + config_.max_unregistered_per_uid;
        if (held >= limit) {
            if (held == 0) per_uid_.erase(uid);
            LOG_RATELIMITED(LogLevel::Warning, "legacy quota " + std::to_string(uid),
                            "closed a legacy connection of uid %d pid %d: it already holds %d "
                            "(MAX_REGISTRATIONS_PER_UID + MAX_UNREGISTERED_PER_UID)",
                            static_cast<int>(uid), static_cast<int>(cred.pid), held);
            ::close(fd);
            return nullptr;
        }
        ++held;
    }
    auto bridge = std::make_unique<LegacyClientBridge>(
        loop_, fd, std::move(cred),
        LegacyClientBridge::Hooks{
            [this](int pair_end, const PeerCredentials& c) { return registry_.adopt(pair_end, c); },
            [this](LegacyClientBridge& b) { finished(b); },
        });
    LegacyClientBridge* raw = bridge.get();
    bridges_.emplace(raw, std::move(bridge));
    if (!raw->start()) return nullptr;  // finished() has taken it
    LOG_DEBUG("legacy client connected (pid %d, uid %d)", raw->credentials().pid, raw->credentials().uid);
    return raw;
}

void LegacySocketServer::finished(LegacyClientBridge& bridge) {
    auto it = bridges_.find(&bridge);
    if (it == bridges_.end()) return;
    const uid_t uid = bridge.credentials().uid;
    if (uid != 0) {
        auto count = per_uid_.find(uid);
        if (count != per_uid_.end() && --count->second <= 0) per_uid_.erase(count);
    }
    // It is inside one of its own callbacks: freed on the next loop turn.
    doomed_.push_back(std::move(it->second));
    bridges_.erase(it);
    reaper_.start(Millis(0));
}

}  // namespace gsdk::heartbeat
