#include "legacy_client_bridge.h"

#include <event2/event.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "gsdk/log.h"

namespace gsdk::heartbeat {

namespace {

// The legacy enums and ours share their numbers; anything beyond is unknown.
ipc::Action action_from_legacy(uint32_t v) {
    return v <= ipc::ACTION_LOG ? static_cast<ipc::Action>(v) : ipc::ACTION_UNKNOWN;
}
ipc::Event event_from_legacy(uint32_t v) {
    return v <= ipc::EVENT_COLD_MIGRATE_END ? static_cast<ipc::Event>(v) : ipc::EVENT_UNKNOWN;
}
ipc::NotifyType notify_from_legacy(uint32_t v) {
    return v <= ipc::NOTIFY_IRREVOCABLE ? static_cast<ipc::NotifyType>(v) : ipc::NOTIFY_UNKNOWN;
}
ipc::VoteResult vote_from_legacy(uint32_t v) {
    return v <= ipc::VOTE_COMPLETE ? static_cast<ipc::VoteResult>(v) : ipc::VOTE_UNKNOWN;
}

// Challenge values the application sees (as an int): 1 .. 0x7fffffff.
uint32_t fresh_challenge() {
    static std::mt19937 rng{std::random_device{}()};
    return std::uniform_int_distribution<uint32_t>(1, legacy::kMaxId)(rng);
}

}  // namespace

LegacyClientBridge::LegacyClientBridge(EventLoop& loop, int fd, PeerCredentials cred, Hooks hooks)
    : loop_(loop), fd_(fd), cred_(std::move(cred)), hooks_(std::move(hooks)),
      refusal_timer_(loop, [this] { refusal_due(); }) {
    read_watch_ = std::make_unique<FdWatch>(loop, fd_, EV_READ, [this](short) { client_readable(); });
    write_watch_ = std::make_unique<FdWatch>(loop, fd_, EV_WRITE, [this](short) { client_writable(); });
}

LegacyClientBridge::~LegacyClientBridge() {
    read_watch_.reset();
    write_watch_.reset();
    registry_watch_.reset();
    if (fd_ >= 0) ::close(fd_);
    if (registry_fd_ >= 0) ::close(registry_fd_);
}

bool LegacyClientBridge::start() {
    if (!open_registry_peer()) return false;
    read_watch_->enable();
    return true;
}

bool LegacyClientBridge::open_registry_peer() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) {
        finish(std::string("no socketpair for it: ") + std::strerror(errno));
        return false;
    }
    registry_fd_ = pair[0];
    registry_watch_ = std::make_unique<FdWatch>(loop_, registry_fd_, EV_READ, [this](short) { registry_readable(); });
    if (hooks_.adopt(pair[1], cred_) == 0) {
        // Turned away at once (a quota); the registry logged why and closed its end.
        finish("");
        return false;
    }
    registry_watch_->enable();
    phase_ = Phase::Unregistered;
    return true;
}

void LegacyClientBridge::close_registry_peer() {
    registry_watch_.reset();
    if (registry_fd_ >= 0) ::close(registry_fd_);
    registry_fd_ = -1;
}

void LegacyClientBridge::client_readable() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        finish(std::string("read: ") + std::strerror(errno));
        return;
    }
    if (n == 0) {
        if (reader_.buffered() > 0)
            LOG_RATELIMITED(LogLevel::Warning, "legacy partial frame",
                            "legacy client uid %d pid %d closed with a partial frame of %zu bytes; lost",
                            static_cast<int>(cred_.uid), static_cast<int>(cred_.pid), reader_.buffered());
        finish("");  // a registered application's departure is the registry's to log
        return;
    }
    received(buf, static_cast<std::size_t>(n));
}

void LegacyClientBridge::received(const char* data, std::size_t len) {
    while (len > 0 && !done_) {
        std::size_t took = reader_.feed(data, len);
        data += took;
        len -= took;
        auto result = reader_.next();
        if (auto* error = std::get_if<legacy::FrameReader::Error>(&result)) {
            finish("bad frame: " + error->why);
            return;
        }
        if (auto* message = std::get_if<legacy::Message>(&result)) on_message(*message);
    }
}

void LegacyClientBridge::on_message(const legacy::Message& message) {
    if (auto* init = std::get_if<legacy::Init>(&message)) return on_init(*init);
    if (auto* final_msg = std::get_if<legacy::Final>(&message)) return on_final(*final_msg);
    if (auto* answer = std::get_if<legacy::ChallengeResponse>(&message)) {
        if (phase_ != Phase::Registered) return;
        uint64_t id = 0;
        for (const auto& sent : challenges_)
            if (sent.id != 0 && sent.legacy == answer->challenge) id = sent.id;
        if (id == 0) {
            LOG_DEBUG("legacy application %s answered challenge %u, which is not one of its last four; ignored",
                      name_.c_str(), answer->challenge);
            return;
        }
        ipc::ClientMessage out;
        auto* report = out.mutable_health();
        report->set_challenge_id(id);
        report->set_healthy(answer->health == 1);
        report->set_corrective_action(action_from_legacy(answer->corrective_action));
        report->set_log_msg(answer->log_msg);
        return send_to_registry(out);
    }
    if (auto* response = std::get_if<legacy::ActionResponse>(&message)) {
        if (phase_ != Phase::Registered) return;
        ipc::ClientMessage out;
        auto* r = out.mutable_action_response();
        r->set_invocation_id(static_cast<int32_t>(response->invocation_id & legacy::kMaxId));
        r->set_event(event_from_legacy(response->event));
        r->set_notify_type(notify_from_legacy(response->notify));
        r->set_vote_result(vote_from_legacy(response->vote));
        r->set_log_msg(response->log_msg);
        return send_to_registry(out);
    }
    // INIT_ACK, CHALLENGE or ACTION_NOTIFY: only the daemon sends those.
    finish(std::string("bad frame: a ") + legacy::name_of(legacy::type_of(message)) +
           " message, which only the daemon sends");
}

void LegacyClientBridge::on_init(const legacy::Init& init) {
    switch (phase_) {
    case Phase::Unregistered:
        return send_register(init);
    case Phase::Detached:
        if (open_registry_peer()) send_register(init);
        return;
    case Phase::Registered: {
        // The original restarts the registration: so do we, as a fresh one.
        pending_init_ = init;
        ipc::ClientMessage out;
        out.mutable_deregister()->set_log_msg("registering again");
        phase_ = Phase::Leaving;
        return send_to_registry(out);
    }
    case Phase::Registering:
    case Phase::Leaving:
    case Phase::Refused:
        pending_init_ = init;  // the newest one is answered next
        final_after_register_ = false;
        return;
    }
}

void LegacyClientBridge::on_final(const legacy::Final& final_msg) {
    pending_init_.reset();
    if (phase_ == Phase::Registering) {
        final_after_register_ = true;
        return;
    }
    if (phase_ != Phase::Registered) return;
    ipc::ClientMessage out;
    out.mutable_deregister()->set_log_msg(final_msg.log_msg);
    phase_ = Phase::Leaving;
    send_to_registry(out);
}

void LegacyClientBridge::send_register(const legacy::Init& init) {
    ipc::ClientMessage out;
    auto* reg = out.mutable_register_();
    reg->set_application_name(init.name);
    reg->set_heartbeat_interval_ms(init.heartbeat_interval_ms);
    reg->set_vote_secs(init.vote_secs);
    reg->set_shutdown_notice_secs(init.shutdown_notice_secs);
    reg->set_suspend_notice_secs(init.suspend_notice_secs);
    reg->set_resume_notice_secs(init.resume_notice_secs);
    reg->set_corrective_action(action_from_legacy(init.corrective_action));
    name_ = init.name;
    phase_ = Phase::Registering;
    send_to_registry(out);
}

void LegacyClientBridge::send_to_registry(const ipc::ClientMessage& message) {
    std::string bytes = message.SerializeAsString();
    // The registry drains its peers every loop turn; a full pair means it
    // cannot keep up with this client, which then goes.
    if (int rc = seqpacket_send(registry_fd_, bytes.data(), bytes.size()); rc < 0)
        finish(std::string("cannot pass its message on: ") + std::strerror(-rc));
}

void LegacyClientBridge::registry_readable() {
    static thread_local char buf[kMaxIpcMessage];
    long n = seqpacket_receive(registry_fd_, buf, sizeof buf);
    if (n == -EAGAIN) return;
    if (n <= 0) return registry_closed();
    ipc::DaemonMessage message;
    if (message.ParseFromArray(buf, static_cast<int>(n))) on_daemon_message(message);
}

void LegacyClientBridge::on_daemon_message(const ipc::DaemonMessage& message) {
    switch (message.body_case()) {
    case ipc::DaemonMessage::kRegisterResult: {
        if (phase_ != Phase::Registering) return;
        const auto& result = message.register_result();
        if (!result.accepted()) {
            // The registry logged why and closes its peer; the library hears
            // of it only after the delay, or it would resend INIT in a loop.
            phase_ = Phase::Refused;
            refusal_error_ = result.error();
            refusal_timer_.start(kLegacyRefusalDelay);
            return;
        }
        phase_ = Phase::Registered;
        send_frame(legacy::InitAck{1});
        if (final_after_register_) {
            final_after_register_ = false;
            on_final(legacy::Final{"finalized while registering"});
        } else if (pending_init_) {
            legacy::Init again = *pending_init_;
            pending_init_.reset();
            on_init(again);
        }
        return;
    }
    case ipc::DaemonMessage::kChallenge: {
        if (phase_ != Phase::Registered) return;
        uint32_t value = fresh_challenge();
        challenges_[next_challenge_slot_++ % challenges_.size()] = {value, message.challenge().challenge_id()};
        return send_frame(legacy::Challenge{value});
    }
    case ipc::DaemonMessage::kActionNotify: {
        if (phase_ != Phase::Registered) return;
        const auto& n = message.action_notify();
        return send_frame(legacy::ActionNotify{static_cast<uint32_t>(n.invocation_id()) & legacy::kMaxId,
                                               static_cast<uint32_t>(n.event()),
                                               static_cast<uint32_t>(n.notify_type())});
    }
    default:
        return;
    }
}

void LegacyClientBridge::registry_closed() {
    close_registry_peer();
    switch (phase_) {
    case Phase::Leaving:
        phase_ = Phase::Detached;
        if (pending_init_) {
            legacy::Init again = *pending_init_;
            pending_init_.reset();
            on_init(again);
        }
        return;
    case Phase::Refused:
        return;  // the refusal timer answers
    default:
        // The registration deadline, a quota, or the daemon stopping: the
        // registry logged why.
        finish("");
        return;
    }
}

void LegacyClientBridge::refusal_due() {
    send_frame(legacy::InitAck{0});
    if (done_) return;
    if (refusal_error_ == EACCES) {
        // Not allowed (its credentials, or a name it may not use): it hears
        // no, then the connection ends; it comes back at most once per delay.
        if (out_.empty()) return finish("");
        close_when_flushed_ = true;
        read_watch_->disable();
        return;
    }
    phase_ = Phase::Detached;
    if (pending_init_) {
        legacy::Init again = *pending_init_;
        pending_init_.reset();
        on_init(again);
    }
}

void LegacyClientBridge::send_frame(const legacy::Message& message) {
    if (done_) return;
    legacy::Frame frame = legacy::encode(message, ++sequence_);
    if (!out_.empty()) {
        if (out_.size() >= kLegacyMaxQueuedFrames)
            return finish("it stopped reading (" + std::to_string(out_.size()) + " messages queued)");
        out_.push_back(frame);
        return;
    }
    ssize_t n = ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(frame.size())) return;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        out_.push_back(frame);
        write_watch_->enable();
        return;
    }
    if (n < 0) return finish("");  // it went away; the read side says so
    // The library would take the rest for the start of the next message.
    finish("a message went out in part (" + std::to_string(n) + " of 228 bytes)");
}

void LegacyClientBridge::client_writable() {
    while (!out_.empty()) {
        ssize_t n = ::send(fd_, out_.front().data(), out_.front().size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n < 0) return finish("");
        if (n != static_cast<ssize_t>(legacy::kFrameSize))
            return finish("a message went out in part (" + std::to_string(n) + " of 228 bytes)");
        out_.pop_front();
    }
    write_watch_->disable();
    if (close_when_flushed_) finish("");
}

void LegacyClientBridge::finish(const std::string& why) {
    if (done_) return;
    done_ = true;
    if (!why.empty())
        // Per user and kind of cause: one flood does not hide another cause.
        LOG_RATELIMITED(LogLevel::Warning, std::to_string(cred_.uid) + " " + why.substr(0, 24),
                        "closed the legacy connection of uid %d pid %d%s%s: %s", static_cast<int>(cred_.uid),
                        static_cast<int>(cred_.pid), name_.empty() ? "" : ", application ", name_.c_str(), why.c_str());
    refusal_timer_.stop();
    read_watch_.reset();
    write_watch_.reset();
    close_registry_peer();  // a registered application's departure: the registry records it
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (hooks_.finished) hooks_.finished(*this);
}

}  // namespace gsdk::heartbeat
