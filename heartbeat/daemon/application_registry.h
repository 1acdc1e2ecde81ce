// The applications registered through libguest_heartbeat: one SOCK_SEQPACKET
// connection each. Every application is challenged at its own interval and is
// "hung" once it has not answered for two intervals; one that disconnects
// without deregistering (exit, crash, kill -9) is a failure that must reach
// the host with the application's corrective action. Who may register, and
// how much, is the PeerGate's; a name belongs to the user that registered it
// while that registration lives.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "daemon_config.h"
#include "departed_failures.h"
#include "gsdk/event_loop.h"
#include "gsdk/ipc_server.h"
#include "health_verdict.h"
#include "heartbeat_ipc.pb.h"
#include "peer_gate.h"
#include "shared_answer_slot.h"

namespace gsdk::heartbeat {

class ApplicationRegistry {
public:
    struct Callbacks {
        // Health, membership or a failure changed (the session may answer a held challenge).
        std::function<void()> changed;
        std::function<void(const std::string& app, const ipc::ActionResponse&)> action_response;
        std::function<void(const std::string& app)> departed;
    };

    ApplicationRegistry(EventLoop& loop, const DaemonConfig& config, Callbacks callbacks);
    ~ApplicationRegistry();

    int listen(const std::string& path);
    // Serves a client that reached the daemon another way (the legacy
    // socket's bridge): see IpcServer::adopt.
    uint64_t adopt(int fd, const PeerCredentials& cred) { return server_.adopt(fd, cred); }
    void shutdown();

    // The live applications that are not healthy (healthy ones add nothing
    // to a merged verdict, and this runs on every host challenge).
    std::vector<HealthFinding> unhealthy_findings() const;
    // Failures of applications that went away without deregistering, one
    // per name, until they expire or the name registers again.
    std::vector<HealthFinding> pending_failures() const { return failures_.findings(); }
    std::size_t pending_failure_count() const { return failures_.size(); }
    // Users with connections or registrations counted against a quota.
    std::size_t tracked_uids() const { return gate_.tracked_uids(); }

    // Sends an action notification to every registered application;
    // returns the names of those it reached.
    std::set<std::string> notify_action(int32_t invocation_id, ipc::Event event, ipc::NotifyType type,
                                        uint32_t timeout_ms);

    std::vector<hbwire::ApplicationStatus> statuses() const;
    // Bumped on every change of membership or state.
    uint64_t generation() const { return generation_; }
    std::size_t size() const { return by_peer_.size(); }

private:
    struct Application;
    enum class AppState { Healthy, Unhealthy, Hung };
    void accepted(IpcPeer& peer);
    void message(IpcPeer& peer, std::string_view bytes);
    void closed(IpcPeer& peer);
    void handle_register(IpcPeer& peer, const ipc::Register& reg);
    void refuse_register(IpcPeer& peer, const std::string& name, int error, const std::string& reason);
    // Closes connections that have not registered in time; expires failures.
    void sweep();
    void send_register_result(IpcPeer& peer, Application& app, ipc::DaemonMessage& reply, bool wants_slot);
    void handle_health(Application& app, const ipc::HealthReport& report);
    // Takes a healthy answer the library left in the slot, moving the hang
    // deadline on (and ending a hang) if it is recent enough.
    void take_slot_answer(Application& app, Clock::time_point now);
    // When the application counts as hung: two intervals after its last answer,
    // and one after the oldest challenge it has not answered went out.
    static Clock::time_point hang_time(const Application& app);
    static void answered(Application& app, uint64_t challenge_id);
    void record_health(Application& app, AppState state, hbwire::CorrectiveAction action, std::string detail);
    void send_challenge(Application& app, Clock::time_point now);
    void challenge_tick();
    void hang_deadline(Application& app);
    void bump();

    EventLoop& loop_;
    const DaemonConfig& config_;
    Callbacks callbacks_;
    IpcServer server_;
    std::map<uint64_t, std::unique_ptr<Application>> by_peer_;  // registered only
    std::map<std::string, uint64_t> by_name_;
    DepartedFailures failures_;
    PeerGate gate_;
    Timer sweep_;
    uint64_t generation_ = 0;
    uint64_t next_challenge_ = 1;
    // One tick challenges every application that is due: thousands of
    // applications cost a wake-up per tick, not one per challenge.
    Timer challenge_tick_;
    Millis tick_{10};
    bool tick_dirty_ = true;  // membership changed: recompute tick_ from the shortest interval
    struct Due {
        Clock::time_point due;
        uint64_t peer_id;
        bool operator>(const Due& o) const { return due > o.due; }
    };
    // When each application is next due a challenge; entries of departed
    // applications are dropped as they come up.
    std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
};

}  // namespace gsdk::heartbeat
