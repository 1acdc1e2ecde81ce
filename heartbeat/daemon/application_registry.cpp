#include "application_registry.h"

#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"

namespace gsdk::heartbeat {

namespace {
constexpr std::size_t kMaxNameLength = 39;  // char application_name[40] in the legacy API
// Challenges go out on a grid of a tenth of the shortest interval (10 ms for
// the 100 ms minimum): at most that late.
constexpr Millis kMinChallengeTick{10};
constexpr Millis kMaxChallengeTick{100};

// Timers count in whole milliseconds: round up, so one never fires early.
Millis until(Clock::time_point deadline, Clock::time_point now) { return std::chrono::ceil<Millis>(deadline - now); }

hbwire::CorrectiveAction to_wire(ipc::Action a) {
    switch (a) {
    case ipc::ACTION_NONE:
        return hbwire::CorrectiveAction::None;
    case ipc::ACTION_REBOOT:
        return hbwire::CorrectiveAction::Reboot;
    case ipc::ACTION_STOP:
        return hbwire::CorrectiveAction::Stop;
    case ipc::ACTION_LOG:
        return hbwire::CorrectiveAction::Log;
    default:
        return hbwire::CorrectiveAction::Unknown;
    }
}
}  // namespace

struct ApplicationRegistry::Application {
    using State = AppState;

    uint64_t peer_id = 0;
    std::string name;
    pid_t pid = 0;
    uid_t uid = 0;  // owns the name while registered
    Millis interval{1000};
    hbwire::CorrectiveAction action = hbwire::CorrectiveAction::Reboot;
    State state = State::Healthy;
    hbwire::CorrectiveAction reported_action = hbwire::CorrectiveAction::Reboot;
    std::string detail;
    uint64_t last_challenge = 0;  // newest challenge id sent
    Clock::time_point last_challenge_at;
    Clock::time_point next_challenge_due;
    Clock::time_point alive_at;  // when it last answered
    // When the oldest challenge it has not answered was sent; none: it owes nothing.
    std::optional<Clock::time_point> owed_since;
    // Fires at hang_time(). Armed afresh by every message answer; slot
    // answers are only looked at when it fires (or the next challenge is
    // due), which then moves it on.
    std::unique_ptr<Timer> hang_timer;
    std::unique_ptr<SharedAnswerSlot> slot;
    uint64_t slot_seen = 0;  // newest challenge id taken from the slot
};

ApplicationRegistry::ApplicationRegistry(EventLoop& loop, const DaemonConfig& config, Callbacks callbacks)
    : loop_(loop), config_(config), callbacks_(std::move(callbacks)),
      server_(loop, IpcServer::Callbacks{
                        [this](IpcPeer& p) { accepted(p); },
                        [this](IpcPeer& p, std::string_view m) { message(p, m); },
                        [this](IpcPeer& p) { closed(p); },
                    }),
      failures_(static_cast<std::size_t>(config.max_applications), std::chrono::seconds(config.failure_retention_secs)),
      gate_(config, config.access.policy()), sweep_(loop, [this] { sweep(); }),
      challenge_tick_(loop, [this] { challenge_tick(); }) {}

ApplicationRegistry::~ApplicationRegistry() = default;

int ApplicationRegistry::listen(const std::string& path) {
    return server_.listen(path, config_.access.socket_access());
}

void ApplicationRegistry::shutdown() {
    sweep_.stop();
    by_peer_.clear();
    by_name_.clear();
    server_.shutdown();
}

void ApplicationRegistry::bump() {
    ++generation_;
    tick_dirty_ = true;
    if (callbacks_.changed) callbacks_.changed();
}

void ApplicationRegistry::accepted(IpcPeer& peer) {
    LOG_DEBUG("client connected (pid %d, uid %d)", peer.credentials().pid, peer.credentials().uid);
    if (!gate_.admit(peer, Clock::now())) {
        peer.close();
        return;
    }
    if (!sweep_.pending()) sweep_.start(Millis(1000));
}

void ApplicationRegistry::sweep() {
    auto now = Clock::now();
    for (uint64_t id : gate_.overdue(now)) {
        IpcPeer* peer = server_.find(id);
        if (!peer) continue;
        LOG_RATELIMITED(LogLevel::Notice, "register deadline",
                        "closed a connection of uid %d pid %d: no registration within %lld ms",
                        static_cast<int>(peer->credentials().uid), static_cast<int>(peer->credentials().pid),
                        static_cast<long long>(kRegisterDeadline.count()));
        gate_.closed(*peer, false);
        peer->close();
    }
    if (failures_.expire(now)) bump();
    if (gate_.has_unregistered() || !failures_.empty()) sweep_.start(Millis(1000));
}

void ApplicationRegistry::message(IpcPeer& peer, std::string_view bytes) {
    static thread_local ipc::ClientMessage msg;  // reused: parsing clears it
    if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        LOG_RATELIMITED(LogLevel::Warning, "undecodable",
                        "undecodable message of %zu bytes from pid %d uid %d; ignored", bytes.size(),
                        static_cast<int>(peer.credentials().pid), static_cast<int>(peer.credentials().uid));
        return;
    }
    auto it = by_peer_.find(peer.id());
    Application* app = it == by_peer_.end() ? nullptr : it->second.get();
    switch (msg.body_case()) {
    case ipc::ClientMessage::kRegister:
        if (app) {
            LOG_RATELIMITED(LogLevel::Warning, "registered twice", "application %s (pid %d) registered twice; ignored",
                            app->name.c_str(), app->pid);
            return;
        }
        handle_register(peer, msg.register_());
        return;
    case ipc::ClientMessage::kDeregister:
        if (!app) return;
        LOG_RATELIMITED(LogLevel::Info, "deregistered " + app->name, "application %s (pid %d) deregistered: %s",
                        app->name.c_str(), app->pid, msg.deregister().log_msg().c_str());
        if (callbacks_.departed) callbacks_.departed(app->name);
        by_name_.erase(app->name);
        by_peer_.erase(it);
        gate_.closed(peer, true);
        peer.close();
        bump();
        return;
    case ipc::ClientMessage::kHealth:
        if (app) handle_health(*app, msg.health());
        return;
    case ipc::ClientMessage::kActionResponse:
        if (app && callbacks_.action_response) callbacks_.action_response(app->name, msg.action_response());
        return;
    default:
        LOG_RATELIMITED(LogLevel::Warning, "no body", "message without a body from pid %d; ignored",
                        static_cast<int>(peer.credentials().pid));
        return;
    }
}

void ApplicationRegistry::handle_register(IpcPeer& peer, const ipc::Register& reg) {
    const std::string& name = reg.application_name();
    const uid_t uid = peer.credentials().uid;
    if (auto refusal = gate_.check_register(peer)) return refuse_register(peer, name, refusal->error, refusal->reason);
    if (name.empty() || name.size() > kMaxNameLength)
        return refuse_register(peer, name, EINVAL,
                               "application name must be 1 to " + std::to_string(kMaxNameLength) + " bytes");
    if (name == kHealthScriptSource || name == kEventScriptSource)
        return refuse_register(peer, name, EACCES, "the name " + name + " is reserved for the daemon");
    if (reg.heartbeat_interval_ms() < static_cast<uint32_t>(config_.min_application_interval_ms))
        return refuse_register(peer, name, EINVAL,
                               "heartbeat interval " + std::to_string(reg.heartbeat_interval_ms()) +
                                   " ms is below the minimum " + std::to_string(config_.min_application_interval_ms) +
                                   " ms");
    if (auto held = by_name_.find(name); held != by_name_.end()) {
        auto owner = by_peer_.find(held->second);
        if (owner != by_peer_.end() && owner->second->uid != uid)
            return refuse_register(peer, name, EACCES,
                                   "the name " + name + " belongs to another user (uid " +
                                       std::to_string(owner->second->uid) + ") while it is registered");
        return refuse_register(peer, name, EEXIST, "an application named " + name + " is already registered");
    }
    if (by_peer_.size() >= static_cast<std::size_t>(config_.max_applications))
        return refuse_register(peer, name, EUSERS,
                               "too many applications (" + std::to_string(config_.max_applications) + ")");

    ipc::DaemonMessage reply;
    auto* result = reply.mutable_register_result();
    result->set_min_interval_ms(config_.min_application_interval_ms);
    auto app = std::make_unique<Application>();
    app->peer_id = peer.id();
    app->name = name;
    app->pid = peer.credentials().pid;
    app->uid = uid;
    app->interval = Millis(reg.heartbeat_interval_ms());
    app->action = to_wire(reg.corrective_action());
    app->reported_action = app->action;
    app->alive_at = Clock::now();
    Application* raw = app.get();
    app->hang_timer = std::make_unique<Timer>(loop_, [this, raw] { hang_deadline(*raw); });
    by_name_[name] = peer.id();
    by_peer_[peer.id()] = std::move(app);
    gate_.registered(peer);
    failures_.forget(name);  // it is back

    result->set_accepted(true);
    send_register_result(peer, *raw, reply, reg.answer_slot());
    LOG_RATELIMITED(LogLevel::Info, "registered " + name,
                    "application %s (pid %d) registered: interval %u ms, corrective action %s, answers by %s",
                    name.c_str(), raw->pid, reg.heartbeat_interval_ms(), hbwire::to_string(raw->action),
                    raw->slot ? "answer slot" : "message");
    raw->hang_timer->start_shared(raw->interval * 2);
    send_challenge(*raw, Clock::now());
    due_.push({raw->next_challenge_due, raw->peer_id});
    if (!challenge_tick_.pending()) challenge_tick_.start(kMinChallengeTick);
    bump();
}

void ApplicationRegistry::refuse_register(IpcPeer& peer, const std::string& name, int error,
                                          const std::string& reason) {
    LOG_RATELIMITED(LogLevel::Warning,
                    "refused " + std::to_string(error) + " uid " + std::to_string(peer.credentials().uid),
                    "registration of %.40s by uid %d pid %d refused: %s", name.c_str(),
                    static_cast<int>(peer.credentials().uid), static_cast<int>(peer.credentials().pid), reason.c_str());
    ipc::DaemonMessage reply;
    auto* result = reply.mutable_register_result();
    result->set_accepted(false);
    result->set_reason(reason);
    result->set_error(error);
    result->set_min_interval_ms(config_.min_application_interval_ms);
    peer.send(reply.SerializeAsString());
    // The answer is queued in the peer's socket; a refused connection holds nothing.
    gate_.closed(peer, false);
    peer.close();
}

void ApplicationRegistry::send_register_result(IpcPeer& peer, Application& app, ipc::DaemonMessage& reply,
                                               bool wants_slot) {
    int fd = -1;
    if (wants_slot) app.slot = SharedAnswerSlot::create(app.name, &fd);
    if (app.slot) {
        reply.mutable_register_result()->set_answer_slot(true);
        int rc = peer.send_with_fd(reply.SerializeAsString(), fd);
        ::close(fd);
        if (rc == 0) return;
        LOG_RATELIMITED(LogLevel::Warning, "slot " + app.name,
                        "answer slot for %s not passed (%s); it answers by message", app.name.c_str(),
                        std::strerror(-rc));
        app.slot.reset();
        reply.mutable_register_result()->set_answer_slot(false);
    }
    peer.send(reply.SerializeAsString());
}

void ApplicationRegistry::challenge_tick() {
    if (by_peer_.empty()) {  // restarted by the next registration
        due_ = {};
        return;
    }
    auto now = Clock::now();
    // Only the applications that are due: the rest cost nothing this tick.
    while (!due_.empty() && due_.top().due <= now) {
        Due entry = due_.top();
        due_.pop();
        auto it = by_peer_.find(entry.peer_id);
        if (it == by_peer_.end()) continue;  // gone since
        Application& app = *it->second;
        take_slot_answer(app, now);
        send_challenge(app, now);
        due_.push({app.next_challenge_due, app.peer_id});
    }
    if (tick_dirty_) {
        Millis shortest = kMaxChallengeTick * 10;
        for (const auto& [id, app] : by_peer_) shortest = std::min(shortest, app->interval);
        tick_ = std::clamp(shortest / 10, kMinChallengeTick, kMaxChallengeTick);
        tick_dirty_ = false;
    }
    challenge_tick_.start(tick_);
}

void ApplicationRegistry::send_challenge(Application& app, Clock::time_point now) {
    // Keep the cadence, but never make up for missed ticks with a burst.
    app.next_challenge_due += app.interval;
    if (app.next_challenge_due <= now) app.next_challenge_due = now + app.interval;
    IpcPeer* peer = server_.find(app.peer_id);
    if (!peer) return;
    app.last_challenge = next_challenge_++;
    app.last_challenge_at = now;
    if (!app.owed_since) app.owed_since = now;
    // The hot path (thousands a second): one message and one buffer, reused.
    static thread_local ipc::DaemonMessage msg;
    static thread_local std::string bytes;
    msg.mutable_challenge()->set_challenge_id(app.last_challenge);
    msg.SerializeToString(&bytes);
    int rc = peer->send(bytes);
    if (rc < 0) LOG_DEBUG("challenge to %s not sent: %s", app.name.c_str(), std::strerror(-rc));
}

void ApplicationRegistry::handle_health(Application& app, const ipc::HealthReport& report) {
    // A late answer to an earlier challenge still proves the application runs;
    // an id never sent to it proves nothing.
    if (report.challenge_id() == 0 || report.challenge_id() > app.last_challenge) return;
    answered(app, report.challenge_id());
    app.alive_at = Clock::now();
    app.hang_timer->start_shared(app.interval * 2);
    Application::State state = report.healthy() ? Application::State::Healthy : Application::State::Unhealthy;
    hbwire::CorrectiveAction action = to_wire(report.corrective_action());
    if (action == hbwire::CorrectiveAction::Unknown) action = app.action;
    record_health(app, state, action, report.healthy() ? std::string() : report.log_msg());
}

void ApplicationRegistry::take_slot_answer(Application& app, Clock::time_point now) {
    if (!app.slot) return;
    ipc::SlotAnswer answer = app.slot->read();
    if (answer.challenge_id <= app.slot_seen || answer.challenge_id > app.last_challenge) return;
    app.slot_seen = answer.challenge_id;
    answered(app, answer.challenge_id);
    // The library's own clock, believed between what we knew and now.
    auto at = Clock::time_point(std::chrono::nanoseconds(answer.answered_at_ns));
    app.alive_at = std::max(app.alive_at, std::min(at, now));
    Clock::time_point deadline = hang_time(app);
    if (deadline <= now && app.owed_since) return;  // too old to count
    if (app.state == Application::State::Hung)
        record_health(app, Application::State::Healthy, app.action, std::string());
    // Moved on here, so that the timer does not wake the daemon just to look.
    app.hang_timer->start(until(deadline, now));
}

// Hung: nothing heard for two intervals, and a challenge unanswered for one.
// The second part keeps the daemon's own lateness from counting against the
// application: when this daemon was not scheduled for a while (a loaded
// guest, a stolen vCPU) and its challenges went out late, the applications
// get their interval from when a challenge really went out.
Clock::time_point ApplicationRegistry::hang_time(const Application& app) {
    Clock::time_point t = app.alive_at + app.interval * 2;
    if (app.owed_since) t = std::max(t, *app.owed_since + app.interval);
    return t;
}

// An answer to challenge `id`: everything up to it is settled, and what is
// still owed (a newer challenge) counts from when the newest went out.
void ApplicationRegistry::answered(Application& app, uint64_t id) {
    if (id >= app.last_challenge)
        app.owed_since.reset();
    else
        app.owed_since = app.last_challenge_at;
}

void ApplicationRegistry::record_health(Application& app, AppState state, hbwire::CorrectiveAction action,
                                        std::string detail) {
    if (state == app.state && action == app.reported_action && detail == app.detail) return;
    if (app.state == Application::State::Hung)
        LOG_RATELIMITED(LogLevel::Notice, "answers " + app.name, "application %s answers again", app.name.c_str());
    if (state == Application::State::Unhealthy)
        LOG_RATELIMITED(LogLevel::Warning, "unhealthy " + app.name, "application %s reports unhealthy (%s): %s",
                        app.name.c_str(), hbwire::to_string(action), detail.c_str());
    else if (app.state == Application::State::Unhealthy)
        LOG_RATELIMITED(LogLevel::Notice, "healthy " + app.name, "application %s is healthy again", app.name.c_str());
    app.state = state;
    app.reported_action = action;
    app.detail = std::move(detail);
    bump();
}

void ApplicationRegistry::hang_deadline(Application& app) {
    auto now = Clock::now();
    take_slot_answer(app, now);
    if (!app.owed_since) {  // no challenge went out since its last answer: nothing to hold against it
        app.hang_timer->start(app.interval);
        return;
    }
    Clock::time_point deadline = hang_time(app);
    if (deadline > now) {  // it answered meanwhile (through the slot, or just after the timer was set)
        app.hang_timer->start(until(deadline, now));
        return;
    }
    if (app.state == Application::State::Hung) return;
    LOG_RATELIMITED(LogLevel::Warning, "hung " + app.name, "application %s (pid %d) has not answered for %lld ms: hung",
                    app.name.c_str(), app.pid, static_cast<long long>(app.interval.count() * 2));
    app.state = Application::State::Hung;
    app.reported_action = app.action;
    app.detail = "not answering health checks (hung)";
    bump();
}

void ApplicationRegistry::closed(IpcPeer& peer) {
    auto it = by_peer_.find(peer.id());
    if (it == by_peer_.end()) {
        gate_.closed(peer, false);
        return;
    }
    Application& app = *it->second;
    LOG_RATELIMITED(LogLevel::Warning, "disconnected " + app.name,
                    "application %s (pid %d) disconnected without deregistering: corrective action %s",
                    app.name.c_str(), app.pid, hbwire::to_string(app.action));
    failures_.add(HealthFinding{app.name, false, app.action,
                                "exited without deregistering (pid " + std::to_string(app.pid) + ")"},
                  Clock::now());
    if (!sweep_.pending()) sweep_.start(Millis(1000));
    if (callbacks_.departed) callbacks_.departed(app.name);
    gate_.closed(peer, true);
    by_name_.erase(app.name);
    by_peer_.erase(it);
    bump();
}

std::vector<HealthFinding> ApplicationRegistry::unhealthy_findings() const {
    std::vector<HealthFinding> out;
    for (const auto& [id, app] : by_peer_)
        if (app->state != Application::State::Healthy)
            out.push_back({app->name, false, app->reported_action, app->detail});
    return out;
}

std::set<std::string> ApplicationRegistry::notify_action(int32_t invocation_id, ipc::Event event, ipc::NotifyType type,
                                                         uint32_t timeout_ms) {
    ipc::DaemonMessage msg;
    auto* n = msg.mutable_action_notify();
    n->set_invocation_id(invocation_id);
    n->set_event(event);
    n->set_notify_type(type);
    n->set_timeout_ms(timeout_ms);
    std::string bytes = msg.SerializeAsString();
    std::set<std::string> reached;
    for (const auto& [id, app] : by_peer_) {
        IpcPeer* peer = server_.find(id);
        if (peer && peer->send(bytes) == 0) reached.insert(app->name);
    }
    return reached;
}

std::vector<hbwire::ApplicationStatus> ApplicationRegistry::statuses() const {
    std::vector<hbwire::ApplicationStatus> out;
    for (const auto& [id, app] : by_peer_) {
        const char* state = app->state == Application::State::Healthy     ? "healthy"
                            : app->state == Application::State::Unhealthy ? "unhealthy"
                                                                          : "hung";
        out.push_back({app->name, state});
    }
    for (const auto& f : failures_.findings()) out.push_back({f.source, "failed"});
    return out;
}

}  // namespace gsdk::heartbeat
