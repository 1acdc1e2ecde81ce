// One node of an active/standby pair: the roles, who takes over when, and
// the handover. It decides; the program around it (ha_pair.cpp) feeds it
// what the heartbeat and server-group libraries and the service socket say,
// and sends what it asks to broadcast.
//
//   starting --(no active heard within the dead time; the higher priority wins a tie)--> active
//   starting --(an active heard)--> standby
//   standby  --(the active silent for the dead time, or the host notifies that its VM
//               goes away (heartbeat_lost, stop_begin...), or a handover to us)--> active
//   active   --(the host asks to take its VM away and a standby is ready: vote reject)--> handing-over
//   handing-over --(the standby confirms "taken")--> standby  (the host's next ask is accepted)
//   handing-over --(no confirmation in time, the address still ours)--> active
//   active   --(the service address is no longer ours)--> standby
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "answered_window.h"
#include "guest_heartbeat.h"
#include "pair_message.h"
#include "service_address.h"
#include "service_wire.h"

namespace ha {

using Clock = std::chrono::steady_clock;

struct NodeOptions {
    std::string pair = "ha-pair";             // the pair's name in its messages
    std::string node;                         // this node's name (also its heartbeat registration)
    std::string service_path;                 // the service address (UNIX datagram path)
    int priority = 100;                       // 0..255: the higher one becomes active when both start
    std::chrono::milliseconds interval{100};  // between pair heartbeats
    int dead_after = 3;                       // missed heartbeats before the active counts as dead
    std::chrono::milliseconds handover_timeout{2000};
};

struct Vote {
    bool accept = true;
    std::string reason;
};

class HaNode {
public:
    // Sends a payload to the group: 0, or a negative errno (as sg_client_broadcast).
    using Broadcast = std::function<int(const std::string& payload)>;
    HaNode(NodeOptions options, Broadcast broadcast);

    void start(Clock::time_point now);
    // A broadcast from another member of the server group (VM source_vm).
    void on_broadcast(const std::string& source_vm, const void* payload, std::size_t len, Clock::time_point now);
    // A member notification from the host (its JSON text).
    void on_host_notification(const std::string& json, Clock::time_point now);
    // The host asks whether it may do `event` to this node's VM.
    Vote on_vote(ghb_event event, Clock::time_point now);
    // Our link to the group is down (server-groupd or the host away): the
    // peer's silence means nothing until it is back.
    void link_down(const std::string& why);
    // The host is doing it anyway (no vote was possible): hand over if we can.
    void on_notice(ghb_event event, Clock::time_point now);
    // Requests are waiting on the service address.
    void serve(Clock::time_point now);
    // Timers: pair heartbeats, the dead time, the handover deadline.
    void tick(Clock::time_point now);
    Clock::time_point next_deadline() const;
    // SIGTERM: hand over first when active with a standby, then finished().
    void shut_down(Clock::time_point now);
    bool finished() const { return finished_; }

    Role role() const { return role_; }
    // The descriptor to wait on for requests, -1 when not serving.
    int service_fd() const { return role_ == Role::Active ? service_.fd() : -1; }
    // One log line: "HH:MM:SS.mmm NODE [ROLE]: text".
    void say(const char* format, ...) const __attribute__((format(printf, 2, 3)));
    // The same, at most once a second per cause (with a count of those held back).
    void complain(const std::string& cause, const std::string& detail) const;

private:
    struct PeerView {
        std::string node;  // empty until first heard
        std::string vm;    // the VM it runs in (source_instance of its broadcasts)
        Role role = Role::Starting;
        int priority = 0;
        uint64_t epoch = 0;
        uint64_t last_seq = 0;
        Clock::time_point last_heard{};
    };

    std::chrono::milliseconds dead_time() const { return options_.interval * options_.dead_after; }
    bool peer_alive(Clock::time_point now) const;
    bool link_up() const { return link_up_since_ != Clock::time_point{}; }
    // Silent for the dead time while we could have heard it.
    bool peer_silent(Clock::time_point now) const;
    bool standby_ready(Clock::time_point now) const;
    bool outranked_by_peer() const;
    void hear(const std::string& source_vm, const PairMessage& m, Clock::time_point now);
    void become_active(uint64_t epoch, const std::string& why, Clock::time_point now,
                       PairMessage::Type announce = PairMessage::Type::Heartbeat);
    void handed_over(const PairMessage& confirmation, Clock::time_point now);
    void note_standby(Clock::time_point now);
    void step_down(const std::string& why, Clock::time_point now);
    void start_handover(const char* because, Clock::time_point now);
    void send(PairMessage::Type type, Clock::time_point now, const std::string& to = "");
    void set_role(Role role, Clock::time_point now);
    void answer_requests();

    NodeOptions options_;
    Broadcast broadcast_;
    ServiceAddress service_;
    AnsweredStreams answered_;
    Role role_ = Role::Starting;
    uint64_t epoch_ = 0;
    uint64_t seq_ = 0;
    PeerView peer_;
    Clock::time_point next_heartbeat_{};
    Clock::time_point role_since_{};
    Clock::time_point last_tick_{};
    // Since when our broadcasts go through ({} while they do not): a node
    // judges its peer's silence, and decides at start, only while it could
    // have heard it.
    Clock::time_point link_up_since_{};
    // Handing over: the epoch offered to the standby and when to give up.
    uint64_t handover_epoch_ = 0;
    Clock::time_point handover_started_{};
    Clock::time_point handover_deadline_{};
    bool shutting_down_ = false;
    bool finished_ = false;
    bool standby_noted_ = false;  // "standby ready" said since the standby last was not
    // Repeated complaints: one line per second per cause.
    mutable std::map<std::string, std::pair<Clock::time_point, uint64_t>> complaints_;
};

}  // namespace ha
