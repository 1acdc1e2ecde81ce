#include "heartbeat_session.h"

#include <algorithm>
#include <cerrno>

#include "gsdk/json_line.h"
#include "gsdk/log.h"
#include "guest_bounds.h"

namespace vmhost {

namespace {

constexpr std::chrono::seconds kUnhealthyRepeatWindow{60};

std::string describe_init(const hb::Init& i) {
    return "guest \"" + i.name + "\" invocation " + std::to_string(i.invocation_id) + ": interval " +
           std::to_string(i.heartbeat_interval_ms) + " ms, corrective action " + hb::to_string(i.corrective_action) +
           ", vote " + std::to_string(i.vote_secs) + " s, notice shutdown " + std::to_string(i.shutdown_notice_secs) +
           " s / suspend " + std::to_string(i.suspend_notice_secs) + " s / resume " +
           std::to_string(i.resume_notice_secs) + " s, restart " + std::to_string(i.restart_secs) + " s";
}

bool applied_by_host(hb::CorrectiveAction a) {
    // "log" asks for exactly what the event log does; none/unknown ask for nothing.
    return a == hb::CorrectiveAction::Reboot || a == hb::CorrectiveAction::Stop;
}

}  // namespace

HeartbeatSession::HeartbeatSession(gsdk::EventLoop& loop, std::string vm, gsdk::ChannelAddress address,
                                   EventLog& events, Hooks hooks)
    : vm_(std::move(vm)), events_(events), hooks_(std::move(hooks)),
      channel_(loop, std::move(address),
               gsdk::HostChannel::Callbacks{
                   [this] {
                       record("connected", "heartbeat socket " + channel_.address().path + " connected");
                       enter(State::WaitingInit);
                   },
                   [this](std::string_view line) { on_line(line); },
                   [this](const std::string& cause) {
                       record("disconnected", "heartbeat socket: " + cause, gsdk::LogLevel::Notice);
                       bool was_up = state_ == State::Active;
                       enter(State::Disconnected);
                       // The VM's end of the port went away (its QEMU, or a
                       // simulated VM, died): the heartbeat is lost now, not
                       // after missed challenges. Told to the VM's server
                       // groups; no corrective action, there is no guest left
                       // to correct.
                       if (was_up && hooks_.lost) hooks_.lost("heartbeat socket closed: " + cause);
                   }}),
      tick_timer_(loop, [this] { tick(); }), random_(std::random_device{}()) {
    // A restarted VM should be picked up within a couple of seconds.
    channel_.set_max_retry(gsdk::Millis(2000));
    // vmhostd says no goodbye: on shutdown a stalled VM must not hold it up.
    channel_.set_stop_flush(gsdk::Millis(0));
}

void HeartbeatSession::start() { channel_.start(); }

void HeartbeatSession::stop() {
    tick_timer_.stop();
    channel_.stop();
    state_ = State::Disconnected;
}

const char* HeartbeatSession::state_name() const {
    switch (state_) {
    case State::Disconnected:
        return "disconnected";
    case State::WaitingInit:
        return "waiting-init";
    case State::Active:
        return suspended_ ? "suspended" : "active";
    case State::Lost:
        return "lost";
    case State::Recovering:
        return "recovering";
    case State::Restarting:
        return "restarting";
    }
    return "?";
}

void HeartbeatSession::record(const std::string& kind, const std::string& detail, gsdk::LogLevel level) {
    // Everything a session records follows from what the guest sent or did.
    events_.record(vm_, kind, detail, level, EventOrigin::Guest);
}

void HeartbeatSession::enter(State state) {
    state_ = state;
    if (state != State::Active) {
        tick_timer_.stop();
        outstanding_ = 0;
        answered_ = true;
        missed_ = 0;
    }
}

void HeartbeatSession::send(hb::Body body) {
    hb::Message m{++sequence_, std::move(body)};
    int rc = channel_.send(hb::encode_line(m));
    if (rc < 0)
        LOG_RATELIMITED(gsdk::LogLevel::Debug, vm_, "%s: %s not sent: %s", vm_.c_str(), hb::msg_type_of(m.body),
                        std::strerror(-rc));
}

void HeartbeatSession::on_line(std::string_view line) {
    std::string error;
    auto object = gsdk::parse_json_object(line, &error);
    if (!object) {
        record("protocol", "unparsable line dropped: " + error, gsdk::LogLevel::Warning);
        return;
    }
    hb::Decoded decoded = hb::decode(*object);
    if (auto* e = std::get_if<hb::DecodeError>(&decoded)) {
        switch (e->kind) {
        case hb::DecodeError::Kind::OldVersion:
            record("protocol", "dropped " + (e->msg_type.empty() ? "message" : e->msg_type) + ": " + e->detail,
                   gsdk::LogLevel::Warning);
            break;
        case hb::DecodeError::Kind::UnknownType:
            record("protocol", e->detail + ": answered with nack", gsdk::LogLevel::Warning);
            send_nack(*object, e->msg_type, e->detail);
            break;
        case hb::DecodeError::Kind::Malformed:
            record("protocol",
                   "malformed " + (e->msg_type.empty() ? "message" : e->msg_type) + " dropped: " + e->detail,
                   gsdk::LogLevel::Warning);
            break;
        }
        return;
    }
    auto& message = std::get<hb::Message>(decoded);
    if (auto* init = std::get_if<hb::Init>(&message.body)) {
        on_init(*init);
    } else if (auto* response = std::get_if<hb::ChallengeResponse>(&message.body)) {
        response->log_msg = bound_log_msg(response->log_msg);
        on_response(*response);
    } else if (auto* action = std::get_if<hb::ActionResponse>(&message.body)) {
        action->log_msg = bound_log_msg(action->log_msg);
        if (hooks_.action_response) hooks_.action_response(*action);
    } else if (auto* exit = std::get_if<hb::Exit>(&message.body)) {
        on_exit(*exit);
    } else if (auto* nack = std::get_if<hb::Nack>(&message.body)) {
        record("protocol", "guest refused our " + nack->orig_msg_type + ": " + nack->log_msg, gsdk::LogLevel::Warning);
    } else {
        // init_ack, challenge, action_notify only ever go host -> guest.
        record("protocol", std::string("unexpected ") + hb::msg_type_of(message.body) + " from the guest dropped",
               gsdk::LogLevel::Warning);
    }
}

void HeartbeatSession::send_nack(const nlohmann::json& line, const std::string& orig_type, const std::string& why) {
    hb::Nack nack;
    if (auto it = line.find("invocation_id"); it != line.end() && it->is_number_integer())
        nack.invocation_id = it->get<int64_t>();
    nack.orig_msg_type = orig_type;
    nack.log_msg = why;
    send(nack);
}

void HeartbeatSession::on_init(const hb::Init& received) {
    bool again = state_ == State::Active;
    // Every number is clamped here, once: nothing downstream (timers, votes,
    // the wait for a restart) sees an unbounded guest value.
    hb::Init init = received;
    std::vector<std::string> clamped = bound_init(&init);
    guest_ = init;
    interval_ = gsdk::Millis(init.heartbeat_interval_ms);
    record("init", std::string(again ? "re-init, " : "") + describe_init(init), gsdk::LogLevel::Notice);
    if (!clamped.empty()) {
        std::string list;
        for (const auto& c : clamped) list += (list.empty() ? "" : "; ") + c;
        record("limit", "init values out of range clamped: " + list, gsdk::LogLevel::Warning);
    }
    // A new init is a new guest session: what we knew of its health is stale.
    health_.clear();
    health_message_.clear();
    applications_.clear();
    applications_truncated_ = false;
    enter(State::WaitingInit);  // resets challenge bookkeeping
    send(hb::InitAck{init.invocation_id, {hb::kExtensionApplications, hb::kExtensionHeldChallenges}});
    state_ = State::Active;
    if (!suspended_) challenge();
    if (hooks_.initialised) hooks_.initialised();
}

void HeartbeatSession::challenge() {
    // 31-bit positive values, as the reference host used.
    outstanding_ = static_cast<int64_t>(random_() % 0x7ffffffe) + 1;
    answered_ = false;
    send(hb::Challenge{outstanding_});
    tick_timer_.start(interval_);
}

void HeartbeatSession::tick() {
    if (state_ != State::Active || suspended_) return;
    if (!answered_) {
        ++missed_;
        if (missed_ >= 2) {
            declare_loss();
            return;
        }
        LOG_RATELIMITED(gsdk::LogLevel::Info, vm_, "%s: challenge %lld unanswered; challenging again", vm_.c_str(),
                        static_cast<long long>(outstanding_));
    }
    challenge();
}

void HeartbeatSession::declare_loss() {
    hb::CorrectiveAction action = guest_ ? guest_->corrective_action : hb::CorrectiveAction::Reboot;
    std::string why = "heartbeat loss: " + std::to_string(missed_) + " challenges in a row unanswered (interval " +
                      std::to_string(interval_.count()) + " ms)";
    record("loss", why + "; corrective action " + hb::to_string(action), gsdk::LogLevel::Warning);
    enter(State::Lost);
    if (hooks_.lost) hooks_.lost(why);
    if (applied_by_host(action) && hooks_.corrective) hooks_.corrective(action, why);
}

void HeartbeatSession::on_response(const hb::ChallengeResponse& r) {
    if (state_ != State::Active || answered_ || r.heartbeat_response != outstanding_) {
        LOG_RATELIMITED(gsdk::LogLevel::Debug, vm_, "%s: stale challenge_response %lld dropped", vm_.c_str(),
                        static_cast<long long>(r.heartbeat_response));
        return;
    }
    answered_ = true;
    missed_ = 0;
    if (r.applications) on_applications(*r.applications);
    if (!r.healthy) {
        on_unhealthy(r);
        return;
    }
    if (health_ == "unhealthy") record("healthy", "guest reports healthy again", gsdk::LogLevel::Notice);
    health_ = "healthy";
    health_message_.clear();
    last_unhealthy_.reset();
}

void HeartbeatSession::on_unhealthy(const hb::ChallengeResponse& r) {
    auto now = std::chrono::steady_clock::now();
    std::pair<hb::CorrectiveAction, std::string> report{r.corrective_action, r.log_msg};
    health_ = "unhealthy";
    health_message_ = r.log_msg;
    if (last_unhealthy_ == report && now - last_unhealthy_at_ < kUnhealthyRepeatWindow) {
        LOG_RATELIMITED(gsdk::LogLevel::Debug, vm_, "%s: unhealthy again (%s), already handled", vm_.c_str(),
                        r.log_msg.c_str());
        return;
    }
    last_unhealthy_ = report;
    last_unhealthy_at_ = now;
    std::string why = "guest unhealthy: " + (r.log_msg.empty() ? std::string("(no message)") : r.log_msg);
    bool apply = applied_by_host(r.corrective_action);
    record("unhealthy",
           why + "; corrective action " + hb::to_string(r.corrective_action) + (apply ? "" : " (logged only)"),
           gsdk::LogLevel::Warning);
    if (!apply) return;
    enter(State::Recovering);
    if (hooks_.corrective) hooks_.corrective(r.corrective_action, why);
}

void HeartbeatSession::on_applications(const std::vector<hb::ApplicationStatus>& apps) {
    auto sorted = apps;
    std::string cut = bound_applications(&sorted);  // sorts by name too
    bool same = sorted.size() == applications_.size() &&
                std::equal(sorted.begin(), sorted.end(), applications_.begin(),
                           [](const auto& a, const auto& b) { return a.name == b.name && a.state == b.state; });
    if (same) return;
    applications_ = std::move(sorted);
    applications_truncated_ = !cut.empty();
    if (applications_truncated_) record("limit", "applications list cut: " + cut, gsdk::LogLevel::Warning);
    std::string list;
    for (const auto& a : applications_) list += (list.empty() ? "" : ", ") + a.name + " " + a.state;
    record("applications", list.empty() ? "no applications registered" : list);
}

void HeartbeatSession::on_exit(const hb::Exit& exit) {
    record("exit", "guest ended its session: " + (exit.log_msg.empty() ? std::string("(no message)") : exit.log_msg),
           gsdk::LogLevel::Notice);
    enter(State::WaitingInit);
}

int64_t HeartbeatSession::notify(hb::EventType event, hb::NotificationType type, gsdk::Millis timeout) {
    if (!channel_.connected()) return -ENOTCONN;
    int64_t id = next_invocation_++;
    send(hb::ActionNotify{id, event, type, timeout.count()});
    return id;
}

void HeartbeatSession::suspend_challenges() {
    suspended_ = true;
    tick_timer_.stop();
    outstanding_ = 0;
    answered_ = true;
    missed_ = 0;
}

void HeartbeatSession::resume_challenges() {
    if (!suspended_) return;
    suspended_ = false;
    if (state_ == State::Active) challenge();
}

void HeartbeatSession::expect_restart(const std::string& why) {
    suspended_ = false;
    if (state_ == State::Disconnected) return;
    record("restart", "waiting for the guest to start a new session: " + why);
    enter(State::Restarting);
}

}  // namespace vmhost
