// One application's registration with guest-heartbeatd: registration,
// challenge answers and action notices, all driven by ghb_client_process()
// from the application's own loop. The connection itself (non-blocking
// connect, back-off, outbox, fd passing) is gsdk::IpcClient's.
#include "client.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "enum_value.h"
#include "gsdk/unix_socket.h"
#include "guest_api_debug.h"
#include "heartbeat_ipc.pb.h"

namespace ipc = gsdk::heartbeat::ipc;
using namespace std::chrono_literals;
using gsdk::heartbeat::Clock;

namespace {

constexpr auto kRegisterAnswerTimeout = 5s;

std::string truncated(const char* text, std::size_t max) {
    if (!text) return {};
    return std::string(text, ::strnlen(text, max));
}

// GUEST_HEARTBEAT_ANSWER_SLOT=0 makes every answer a message (for comparison).
bool answer_slot_enabled() {
    const char* v = std::getenv("GUEST_HEARTBEAT_ANSWER_SLOT");
    return !v || std::strcmp(v, "0") != 0;
}

bool valid_event(int e) { return e >= GHB_EVENT_UNKNOWN && e <= GHB_EVENT_COLD_MIGRATE_END; }

}  // namespace

ghb_client::ghb_client(const ghb_callbacks& cb, void* user_data, std::string path)
    : LibraryClient(
          gsdk::IpcClient::Options{std::move(path)},
          gsdk::IpcClient::Callbacks{
              [this] { send_register(); },
              [this](const char* data, std::size_t len, int fd) { handle_datagram(data, len, fd); },
              [this](const std::string& reason) { lost(reason); },
              [](const std::string& what) { DPRINTFE("heartbeat: dropped %s from the daemon", what.c_str()); },
              // A reconnect the socket's mode turns away keeps retrying with
              // backoff: the registration is not dropped for an access
              // change the administrator may undo.
              nullptr,
          }),
      callbacks(cb), user(user_data), wants_answer_slot_(answer_slot_enabled()) {}

ghb_client::~ghb_client() { unmap_answer_slot(); }

int ghb_client::open_descriptors() { return ipc_.open(); }

int ghb_client::start(const ghb_registration& reg, unsigned flags) {
    std::lock_guard lock(mu_);
    if (phase_ != Phase::Idle) return -EALREADY;
    gsdk::heartbeat::Registration r;
    r.name = reg.application_name;
    r.fields = reg;
    r.fields.application_name = nullptr;  // the caller's string may not outlive this call
    r.flags = flags;
    registration_ = std::move(r);
    ipc_.reset_backoff();
    register_error_ = 0;
    refusal_ = 0;
    int rc = ipc_.connect_now();
    if (rc == 0 && phase_ != Phase::Registering) rc = register_error_ < 0 ? register_error_ : -ECONNRESET;
    if (rc < 0) {
        // Not allowed to reach the socket: retrying will not help.
        if ((flags & GHB_REGISTER_ONCE) || rc == -EACCES) {
            ipc_.disconnect();
            registration_.reset();
            phase_ = Phase::Idle;
            return rc;
        }
        DPRINTFI("heartbeat: %s: daemon not reachable at %s (%s), retrying", registration_->name.c_str(),
                 ipc_.path().c_str(), std::strerror(-rc));
        retry_later();
    }
    arm_timer();
    return 0;
}

// A connection is up: the first message on it is the registration.
void ghb_client::send_register() {
    if (!registration_) return ipc_.disconnect();
    ipc::ClientMessage msg;
    auto* body = msg.mutable_register_();
    const auto& f = registration_->fields;
    body->set_application_name(registration_->name);
    body->set_heartbeat_interval_ms(f.heartbeat_interval_ms);
    body->set_vote_secs(f.vote_secs);
    body->set_shutdown_notice_secs(f.shutdown_notice_secs);
    body->set_suspend_notice_secs(f.suspend_notice_secs);
    body->set_resume_notice_secs(f.resume_notice_secs);
    body->set_corrective_action(static_cast<ipc::Action>(f.corrective_action));
    body->set_answer_slot(wants_answer_slot_);
    if (int rc = send_message(msg.SerializeAsString()); rc < 0) {
        register_error_ = rc;
        ipc_.disconnect();
        retry_later();
        return;
    }
    phase_ = Phase::Registering;
    result_deadline_ = Clock::now() + kRegisterAnswerTimeout;
}

void ghb_client::retry_later() {
    ipc_.connect_later();
    phase_ = Phase::Backoff;
}

// What belonged to the connection: the daemon's rounds and its answer slot.
void ghb_client::forget_connection() {
    ipc_.disconnect();
    pending_.clear();
    unmap_answer_slot();
}

void ghb_client::map_answer_slot(int fd) {
    // Checked before mapping: a file that could shrink under us would turn a
    // later answer into a SIGBUS in the application.
    struct stat st;
    int seals = ::fcntl(fd, F_GET_SEALS);
    if (::fstat(fd, &st) < 0 || st.st_size < static_cast<off_t>(sizeof(ipc::AnswerSlot)) || seals < 0 ||
        !(seals & F_SEAL_SHRINK)) {
        DPRINTFE("heartbeat: answer slot from the daemon is unusable; answering by message");
        return;
    }
    void* map = ::mmap(nullptr, sizeof(ipc::AnswerSlot), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        DPRINTFE("heartbeat: answer slot not mapped (%s); answering by message", std::strerror(errno));
        return;
    }
    answer_slot_ = static_cast<ipc::AnswerSlot*>(map);
}

void ghb_client::unmap_answer_slot() {
    if (!answer_slot_) return;
    ::munmap(answer_slot_, sizeof(ipc::AnswerSlot));
    answer_slot_ = nullptr;
}

void ghb_client::lost(const std::string& reason) {
    bool was_up = phase_ == Phase::Registering || phase_ == Phase::Registered;
    forget_connection();
    if (!was_up) return;
    const char* name = registration_ ? registration_->name.c_str() : "?";
    DPRINTFI("heartbeat: %s: %s", name, reason.c_str());
    Happening h;
    h.kind = Happening::Kind::Registered;
    h.registered = false;
    h.reason = reason;
    ready_.push_back(std::move(h));
    if (registration_ && !(registration_->flags & GHB_REGISTER_ONCE)) {
        ipc_.reset_backoff();
        retry_later();
    } else {
        registration_.reset();
        phase_ = Phase::Idle;
    }
}

int ghb_client::send_message(const std::string& bytes) {
    int rc = ipc_.send(bytes);
    if (rc == -ENOBUFS) DPRINTFE("heartbeat: daemon is not reading; dropping an outgoing message");
    return rc;
}

void ghb_client::handle_datagram(const char* data, std::size_t len, int passed_fd) {
    ipc::DaemonMessage msg;
    if (!msg.ParseFromArray(data, static_cast<int>(len))) {
        DPRINTFE("heartbeat: dropped a malformed %zu-byte message from the daemon", len);
        return;
    }
    const std::string& name = registration_ ? registration_->name : std::string();
    switch (msg.body_case()) {
    case ipc::DaemonMessage::kRegisterResult: {
        if (phase_ != Phase::Registering) {
            DPRINTFE("heartbeat: %s: unexpected register_result ignored", name.c_str());
            return;
        }
        const auto& result = msg.register_result();
        Happening h;
        h.kind = Happening::Kind::Registered;
        h.registered = result.accepted();
        if (result.accepted()) {
            phase_ = Phase::Registered;
            ipc_.reset_backoff();
            last_answer_plain_ = true;  // the daemon starts every registration healthy
            if (result.answer_slot() && passed_fd >= 0 && wants_answer_slot_) map_answer_slot(passed_fd);
            DPRINTFI("heartbeat: %s: registered", name.c_str());
        } else {
            h.reason = truncated(result.reason().c_str(), GHB_LOG_MAX - 1);
            if (h.reason.empty()) h.reason = "rejected by the daemon";
            // A refusal for who we are is kept for ghb_client_is_registered().
            refusal_ = result.error() == EACCES ? EACCES : 0;
            DPRINTFE("heartbeat: %s: registration rejected%s: %s", name.c_str(), refusal_ ? " (EACCES)" : "",
                     h.reason.c_str());
            forget_connection();
            registration_.reset();
            phase_ = Phase::Idle;
        }
        ready_.push_back(std::move(h));
        return;
    }
    case ipc::DaemonMessage::kChallenge: {
        if (phase_ != Phase::Registered) {
            DPRINTFE("heartbeat: %s: challenge before registration ignored", name.c_str());
            return;
        }
        Happening h;
        h.kind = Happening::Kind::Challenge;
        h.challenge_id = msg.challenge().challenge_id();
        h.generation = ipc_.generation();
        h.action = registration_->fields.corrective_action;
        ready_.push_back(std::move(h));
        return;
    }
    case ipc::DaemonMessage::kActionNotify: {
        const auto& an = msg.action_notify();
        int notify = an.notify_type();
        if (phase_ != Phase::Registered || !valid_event(an.event()) ||
            (notify != GHB_NOTIFY_REVOCABLE && notify != GHB_NOTIFY_IRREVOCABLE)) {
            DPRINTFE("heartbeat: %s: invalid action_notify ignored (event %d, type %d)", name.c_str(),
                     static_cast<int>(an.event()), notify);
            return;
        }
        Happening h;
        h.kind = Happening::Kind::Action;
        h.generation = ipc_.generation();
        h.notice.invocation_id = an.invocation_id();
        h.notice.event = static_cast<ghb_event>(an.event());
        h.notice.notify_type = static_cast<ghb_notify_type>(notify);
        h.notice.timeout_ms = an.timeout_ms();
        pending_[an.invocation_id()] = {h.notice.event, h.notice.notify_type,
                                        Clock::now() + std::chrono::milliseconds(an.timeout_ms())};
        ready_.push_back(std::move(h));
        return;
    }
    case ipc::DaemonMessage::BODY_NOT_SET:
        break;
    }
    DPRINTFE("heartbeat: %s: message without a known body from the daemon ignored", name.c_str());
}

void ghb_client::expire(TimePoint now) {
    if (phase_ == Phase::Registering && now >= result_deadline_) {
        // A daemon that accepts but never answers is as good as gone.
        lost("no answer to the registration from the daemon");
    }
    std::erase_if(pending_, [now](const auto& p) { return now >= p.second.deadline; });
}

void ghb_client::consider_deadlines(Deadlines& d) const {
    if (phase_ == Phase::Registering) d.consider(result_deadline_);
    for (const auto& [id, p] : pending_) d.consider(p.deadline);
}

bool ghb_client::registered() {
    std::lock_guard lock(mu_);
    return phase_ == Phase::Registered;
}

int ghb_client::deregister(const char* log_msg) {
    std::lock_guard lock(mu_);
    if (phase_ == Phase::Backoff) {
        ipc_.disconnect();
        registration_.reset();
        phase_ = Phase::Idle;
        arm_timer();
        return 0;
    }
    if (!ipc_.connected()) return -ENOTCONN;
    ipc::ClientMessage msg;
    msg.mutable_deregister()->set_log_msg(truncated(log_msg, GHB_LOG_MAX - 1));
    int rc = ipc_.send_final(msg.SerializeAsString());
    if (rc < 0) DPRINTFE("heartbeat: deregister could not be sent: %s", std::strerror(-rc));
    // Closing with unread datagrams (a challenge in flight) makes the daemon's
    // next read fail with ECONNRESET before it reaches the Deregister.
    ipc_.discard_unread();
    forget_connection();
    registration_.reset();
    phase_ = Phase::Idle;
    std::erase_if(ready_, [](const Happening& h) { return h.kind != Happening::Kind::Registered; });
    arm_timer();
    return rc < 0 && rc != -EAGAIN ? rc : 0;
}

int ghb_client::respond(int32_t invocation_id, ghb_vote_result result, const char* log_msg) {
    std::lock_guard lock(mu_);
    auto it = pending_.find(invocation_id);
    if (it == pending_.end()) return -ENOENT;
    bool vote = it->second.notify_type == GHB_NOTIFY_REVOCABLE;
    bool fits = vote ? (result == GHB_VOTE_ACCEPT || result == GHB_VOTE_REJECT) : result == GHB_VOTE_COMPLETE;
    if (!fits) return -EINVAL;
    ipc::ClientMessage msg;
    auto* body = msg.mutable_action_response();
    body->set_invocation_id(invocation_id);
    body->set_event(static_cast<ipc::Event>(it->second.event));
    body->set_notify_type(static_cast<ipc::NotifyType>(it->second.notify_type));
    body->set_vote_result(static_cast<ipc::VoteResult>(result));
    body->set_log_msg(truncated(log_msg, GHB_LOG_MAX - 1));
    pending_.erase(it);
    int rc = send_message(msg.SerializeAsString());
    arm_timer();
    return rc;
}

void ghb_client::send_health(uint64_t challenge_id, const ghb_health& health) {
    int action = gsdk::heartbeat::enum_value(health.corrective_action);
    bool plain = health.healthy && (action == GHB_ACTION_UNKNOWN || action == registration_->fields.corrective_action);
    if (plain && last_answer_plain_ && answer_slot_) {
        // steady_clock is CLOCK_MONOTONIC, the clock the daemon reads it with.
        auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch());
        ipc::publish_healthy_answer(*answer_slot_, challenge_id, now.count());
        return;
    }
    last_answer_plain_ = plain;
    ipc::ClientMessage msg;
    auto* body = msg.mutable_health();
    body->set_challenge_id(challenge_id);
    body->set_healthy(health.healthy);
    body->set_corrective_action(static_cast<ipc::Action>(
        action >= GHB_ACTION_UNKNOWN && action <= GHB_ACTION_LOG ? action : GHB_ACTION_UNKNOWN));
    body->set_log_msg(truncated(health.log_msg, GHB_LOG_MAX - 1));
    send_message(msg.SerializeAsString());
}

// Runs with no lock held (CallbackDispatch), so callbacks may call back in.
void ghb_client::deliver(Happening& h) {
    switch (h.kind) {
    case Happening::Kind::Registered:
        if (callbacks.registered) callbacks.registered(this, h.registered, h.reason.c_str(), user);
        return;
    case Happening::Kind::Challenge: {
        ghb_health health{};
        health.healthy = true;
        health.corrective_action = h.action;
        if (callbacks.health_check) callbacks.health_check(this, &health, user);
        // A C callback may have stored any byte in the bool.
        unsigned char healthy_byte;
        std::memcpy(&healthy_byte, &health.healthy, 1);
        health.healthy = healthy_byte != 0;
        health.log_msg[GHB_LOG_MAX - 1] = '\0';
        std::lock_guard lock(mu_);
        if (h.generation == ipc_.generation() && phase_ == Phase::Registered) send_health(h.challenge_id, health);
        return;
    }
    case Happening::Kind::Action: {
        {
            std::lock_guard lock(mu_);
            if (h.generation != ipc_.generation() || !pending_.count(h.notice.invocation_id)) return;
        }
        if (callbacks.action_notify) {
            callbacks.action_notify(this, &h.notice, user);
        } else {
            respond(h.notice.invocation_id,
                    h.notice.notify_type == GHB_NOTIFY_REVOCABLE ? GHB_VOTE_ACCEPT : GHB_VOTE_COMPLETE, nullptr);
        }
        return;
    }
    }
}
