// The guest end of heartbeat protocol v3 on cgcs.heartbeat: init (retried
// with a fresh invocation id until acknowledged), challenge answering with the
// merged health, action rounds, exit, and re-initialisation when the host goes
// quiet or away.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "application_registry.h"
#include "daemon_config.h"
#include "gsdk/child_process.h"
#include "gsdk/event_loop.h"
#include "gsdk/host_channel.h"
#include "health_script.h"
#include "health_verdict.h"
#include "heartbeat_host_wire.h"
#include "vote_round.h"

namespace gsdk::heartbeat {

class HostSession {
public:
    enum class State { Disconnected, Initialising, Active };

    HostSession(EventLoop& loop, const DaemonConfig& config, ApplicationRegistry& apps, HealthScript& script,
                ChildProcesses& children);

    void start();
    // Says goodbye to the host (exit) and closes the channel.
    void stop(const std::string& why);

    // The settings announced in init changed (reload): initialise again; the
    // host takes a new init at any time.
    void announce_again();
    // Health or membership changed: a held challenge is answered at once.
    void health_changed();
    void application_answered(const std::string& app, const ipc::ActionResponse& response);
    void application_departed(const std::string& app);

    State state() const { return state_; }

private:
    void connected();
    void disconnected(const std::string& cause);
    void received(std::string_view line);
    void handle(const hbwire::Message& message);
    void begin_init(Millis delay);
    void send_init();
    void challenged(int64_t challenge);
    void answer_challenge();
    HealthVerdict current_verdict(bool for_sending);
    void action_requested(const hbwire::ActionNotify& notify);
    void send(hbwire::Body body);

    EventLoop& loop_;
    const DaemonConfig& config_;
    ApplicationRegistry& apps_;
    HealthScript& script_;
    ChildProcesses& children_;
    HostChannel channel_;
    State state_ = State::Disconnected;

    Timer init_timer_;
    Timer watchdog_;
    Timer hold_timer_;
    Timer round_reaper_;
    int64_t invocation_id_ = 0;
    int64_t previous_invocation_id_ = 0;
    int64_t sequence_ = 0;
    std::optional<int64_t> held_challenge_;
    bool host_wants_applications_ = false;
    bool host_allows_held_challenges_ = false;
    uint64_t sent_generation_ = UINT64_MAX;
    RepeatSuppressor suppressor_;
    std::unique_ptr<VoteRound> round_;
    std::unique_ptr<VoteRound> finished_round_;
    int32_t next_round_id_ = 1;
    std::mt19937 rng_;
};

}  // namespace gsdk::heartbeat
