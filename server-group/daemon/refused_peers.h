// A refused connection is told why before it is closed. Closing at once
// would lose that answer: a socket closed with the peer's messages unread
// (the library's greeting, sent as it connects) makes the peer's next read
// fail with ECONNRESET ahead of our answer. So a refused peer is closed once
// its first message has been read, or after a second; at most 256 are held
// (beyond that they are closed at once), so refusals cannot pile up.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>

#include "gsdk/event_loop.h"
#include "gsdk/ipc_server.h"

namespace gsdk::sg {

class RefusedPeers {
public:
    RefusedPeers(EventLoop& loop, IpcServer& server) : server_(server), sweep_(loop, [this] { sweep(); }) {}

    // The refusal has been sent; close the peer soon.
    void hold(IpcPeer& peer) {
        if (held_.size() >= kMaxHeld) return peer.close();
        held_[peer.id()] = Clock::now() + kGrace;
        if (!sweep_.pending()) sweep_.start(kGrace);
    }
    // True if the peer was refused: its message is dropped and it is closed now.
    bool take_message(IpcPeer& peer) {
        if (!held_.erase(peer.id())) return false;
        peer.close();
        return true;
    }
    // The peer closed first.
    void forget(uint64_t id) { held_.erase(id); }

private:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kMaxHeld = 256;
    static constexpr Millis kGrace{1000};

    void sweep() {
        auto now = Clock::now();
        for (auto it = held_.begin(); it != held_.end();) {
            if (it->second > now) {
                ++it;
                continue;
            }
            if (IpcPeer* peer = server_.find(it->first)) peer->close();
            it = held_.erase(it);
        }
        if (!held_.empty()) sweep_.start(kGrace);
    }

    IpcServer& server_;
    Timer sweep_;
    std::unordered_map<uint64_t, Clock::time_point> held_;
};

}  // namespace gsdk::sg
