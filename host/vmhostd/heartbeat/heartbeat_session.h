// The host end of heartbeat protocol v3 for one VM (docs/protocols/heartbeat.md): connects to
// the VM's cgcs.heartbeat socket, answers init, challenges at the guest's
// interval, declares loss after two unanswered challenges in a row and hands
// corrective actions and action responses up to its owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "event_log.h"
#include "gsdk/event_loop.h"
#include "gsdk/host_channel.h"
#include "heartbeat_host_wire.h"

namespace vmhost {

namespace hb = gsdk::hbwire;

// The host accepts faster heartbeats than the reference host did (400 ms).
inline constexpr gsdk::Millis kMinChallengeInterval{100};

class HeartbeatSession {
public:
    enum class State {
        Disconnected,  // no connection to the VM's heartbeat socket
        WaitingInit,   // connected; the guest has not (re)started its session
        Active,        // challenging
        Lost,          // heartbeat loss declared; waiting for a new init
        Recovering,    // corrective action applied for an unhealthy guest; waiting for a new init
        Restarting,    // the host rebooted or stopped the VM; waiting for a new init
    };
    struct Hooks {
        // Loss or an unhealthy report whose action must be applied.
        std::function<void(hb::CorrectiveAction action, const std::string& why)> corrective;
        std::function<void(const hb::ActionResponse& response)> action_response;
        // A new init was acknowledged.
        std::function<void()> initialised;
        // Heartbeat loss was declared (whatever the corrective action).
        std::function<void(const std::string& why)> lost;
    };

    HeartbeatSession(gsdk::EventLoop& loop, std::string vm, gsdk::ChannelAddress address, EventLog& events,
                     Hooks hooks);

    void start();
    void stop();

    State state() const { return state_; }
    // "suspended" stands for Active while the host holds the challenges.
    const char* state_name() const;
    bool suspended() const { return suspended_; }
    // The guest can take part in votes and notifications right now.
    bool can_notify() const { return state_ == State::Active && !suspended_; }
    const std::optional<hb::Init>& guest() const { return guest_; }
    gsdk::Millis interval() const { return interval_; }
    unsigned missed() const { return missed_; }
    const std::string& health() const { return health_; }
    const std::string& health_message() const { return health_message_; }
    const std::vector<hb::ApplicationStatus>& applications() const { return applications_; }
    // The guest listed more (or longer) applications than the host keeps.
    bool applications_truncated() const { return applications_truncated_; }

    // Sends an action_notify; returns its invocation_id, or -ENOTCONN.
    int64_t notify(hb::EventType event, hb::NotificationType type, gsdk::Millis timeout);
    // The host is acting on the VM (paused, migrating): no challenges, so no
    // false loss, until resume_challenges().
    void suspend_challenges();
    void resume_challenges();
    // The host rebooted or stopped the VM: wait for a fresh init.
    void expect_restart(const std::string& why);

private:
    void on_line(std::string_view line);
    void on_init(const hb::Init& received);
    void on_response(const hb::ChallengeResponse& response);
    void on_unhealthy(const hb::ChallengeResponse& response);
    void on_applications(const std::vector<hb::ApplicationStatus>& apps);
    void on_exit(const hb::Exit& exit);
    void send_nack(const nlohmann::json& line, const std::string& orig_type, const std::string& why);
    void send(hb::Body body);
    void challenge();
    void tick();
    void declare_loss();
    void enter(State state);
    void record(const std::string& kind, const std::string& detail, gsdk::LogLevel level = gsdk::LogLevel::Info);

    std::string vm_;
    EventLog& events_;
    Hooks hooks_;
    gsdk::HostChannel channel_;
    gsdk::Timer tick_timer_;
    std::mt19937_64 random_;

    State state_ = State::Disconnected;
    bool suspended_ = false;
    std::optional<hb::Init> guest_;
    gsdk::Millis interval_{0};
    int64_t sequence_ = 0;
    int64_t next_invocation_ = 1;
    int64_t outstanding_ = 0;  // challenge awaiting its response
    bool answered_ = true;
    unsigned missed_ = 0;

    std::string health_;
    std::string health_message_;
    // Repeats of one unhealthy report are not re-applied within 60 s (reboot loops).
    std::optional<std::pair<hb::CorrectiveAction, std::string>> last_unhealthy_;
    std::chrono::steady_clock::time_point last_unhealthy_at_{};
    std::vector<hb::ApplicationStatus> applications_;
    bool applications_truncated_ = false;
};

}  // namespace vmhost
