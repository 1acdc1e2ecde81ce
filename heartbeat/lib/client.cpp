// One application's registration with guest-heartbeatd: connection, reconnect
// with back-off, challenge answers and action notices, all driven by
// ghb_client_process() from the application's own loop.
#include "client.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "enum_value.h"
#include "gsdk/unix_socket.h"
#include "guest_api_debug.h"
#include "heartbeat_ipc.pb.h"

namespace ipc = gsdk::heartbeat::ipc;
using namespace std::chrono_literals;
using gsdk::heartbeat::Clock;

namespace {

constexpr auto kFirstBackoff = 50ms;  // a restarting daemon is usually back within a second
constexpr auto kMaxBackoff = 2000ms;
constexpr auto kRegisterAnswerTimeout = 5s;
constexpr int kDatagramsPerProcess = 64;  // bounded so one busy client cannot starve the loop
constexpr std::size_t kOutboxLimit = 256;

// Non-blocking even when the daemon's accept backlog is full (gsdk's
// seqpacket_connect would block there, and process() must never block).
int connect_nonblocking(const std::string& path) {
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path) return -ENAMETOOLONG;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        int err = errno;
        ::close(fd);
        return -err;
    }
    return fd;
}

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
    : callbacks(cb), user(user_data), socket_path(std::move(path)),
      jitter_seed_(static_cast<unsigned>(reinterpret_cast<uintptr_t>(this) ^ ::getpid() ^ ::time(nullptr))),
      wants_answer_slot_(answer_slot_enabled()) {}

ghb_client::~ghb_client() {
    close_socket();
    if (timer_fd >= 0) ::close(timer_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
}

int ghb_client::open_descriptors() {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) return -errno;
    timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer_fd < 0) return -errno;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = timer_fd;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev) < 0) return -errno;
    return 0;
}

int ghb_client::start(const ghb_registration& reg, unsigned flags) {
    std::lock_guard lock(mu_);
    if (phase_ != Phase::Idle) return -EALREADY;
    gsdk::heartbeat::Registration r;
    r.name = reg.application_name;
    r.fields = reg;
    r.fields.application_name = nullptr;  // the caller's string may not outlive this call
    r.flags = flags;
    registration_ = std::move(r);
    backoff_ = 0ms;
    refusal_ = 0;
    int rc = connect_and_register();
    if (rc < 0) {
        // Not allowed to reach the socket: retrying will not help.
        if ((flags & GHB_REGISTER_ONCE) || rc == -EACCES) {
            registration_.reset();
            return rc;
        }
        DPRINTFI("heartbeat: %s: daemon not reachable at %s (%s), retrying", registration_->name.c_str(),
                 socket_path.c_str(), std::strerror(-rc));
        schedule_reconnect();
    }
    arm_timer();
    return 0;
}

int ghb_client::connect_and_register() {
    int fd = connect_nonblocking(socket_path);
    if (fd < 0) return fd;
    sock_ = fd;
    ++generation_;
    watching_out_ = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = sock_;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sock_, &ev) < 0) {
        int err = errno;
        close_socket();
        return -err;
    }
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
        close_socket();
        return rc;
    }
    phase_ = Phase::Registering;
    result_deadline_ = Clock::now() + kRegisterAnswerTimeout;
    return 0;
}

void ghb_client::schedule_reconnect() {
    backoff_ = backoff_ == 0ms ? kFirstBackoff : std::min<std::chrono::milliseconds>(backoff_ * 2, kMaxBackoff);
    // +-25% so that many clients do not all knock at the same instant.
    auto spread = backoff_.count() / 2;
    auto jitter = spread > 0 ? static_cast<long>(::rand_r(&jitter_seed_) % (spread + 1)) - spread / 2 : 0;
    reconnect_at_ = Clock::now() + backoff_ + std::chrono::milliseconds(jitter);
    phase_ = Phase::Backoff;
}

void ghb_client::close_socket() {
    if (sock_ < 0) return;
    if (epoll_fd >= 0) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, sock_, nullptr);
    ::close(sock_);
    sock_ = -1;
    outbox_.clear();
    watching_out_ = false;
    pending_.clear();  // the daemon's rounds belong to the connection
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

void ghb_client::lose_connection(const std::string& reason) {
    bool was_up = phase_ == Phase::Registering || phase_ == Phase::Registered;
    close_socket();
    if (!was_up) return;
    const char* name = registration_ ? registration_->name.c_str() : "?";
    DPRINTFI("heartbeat: %s: %s", name, reason.c_str());
    Happening h;
    h.kind = Happening::Kind::Registered;
    h.registered = false;
    h.reason = reason;
    ready_.push_back(std::move(h));
    if (registration_ && !(registration_->flags & GHB_REGISTER_ONCE)) {
        backoff_ = 0ms;
        schedule_reconnect();
    } else {
        registration_.reset();
        phase_ = Phase::Idle;
    }
}

int ghb_client::send_message(const std::string& bytes) {
    if (sock_ < 0) return -ENOTCONN;
    if (!outbox_.empty()) {
        if (outbox_.size() >= kOutboxLimit) {
            DPRINTFE("heartbeat: daemon is not reading; dropping an outgoing message");
            return -ENOBUFS;
        }
        outbox_.push_back(bytes);
        return 0;
    }
    int rc = gsdk::seqpacket_send(sock_, bytes.data(), bytes.size());
    if (rc == -EAGAIN) {
        outbox_.push_back(bytes);
        watch_socket(true);
        return 0;
    }
    // On a hard error the socket also reports the hang-up to epoll, and the
    // receive path turns it into a lost connection.
    return rc;
}

void ghb_client::flush_outbox() {
    while (!outbox_.empty()) {
        int rc = gsdk::seqpacket_send(sock_, outbox_.front().data(), outbox_.front().size());
        if (rc == -EAGAIN) return;
        outbox_.pop_front();  // sent, or failed for good (the hang-up is seen on receive)
    }
    watch_socket(false);
}

void ghb_client::watch_socket(bool want_out) {
    if (watching_out_ == want_out || sock_ < 0) return;
    epoll_event ev{};
    ev.events = want_out ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.fd = sock_;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, sock_, &ev);
    watching_out_ = want_out;
}

void ghb_client::receive_datagrams() {
    static thread_local char buf[gsdk::kMaxIpcMessage];
    for (int i = 0; i < kDatagramsPerProcess && sock_ >= 0; ++i) {
        int passed = -1;
        long n = gsdk::seqpacket_receive_with_fd(sock_, buf, sizeof buf, &passed);
        if (n == -EAGAIN || n == -EWOULDBLOCK) return;
        if (n == -EMSGSIZE) {
            DPRINTFE("heartbeat: dropped a datagram from the daemon larger than %zu bytes", sizeof buf);
            continue;
        }
        if (n == 0) {
            lose_connection("daemon closed the connection");
            return;
        }
        if (n < 0) {
            lose_connection(std::string("daemon connection failed: ") + std::strerror(static_cast<int>(-n)));
            return;
        }
        handle_datagram(buf, static_cast<std::size_t>(n), passed);
        if (passed >= 0) ::close(passed);  // a mapping keeps its own reference
    }
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
            backoff_ = 0ms;
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
            close_socket();
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
        h.generation = generation_;
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
        h.generation = generation_;
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
    if (phase_ == Phase::Backoff && now >= reconnect_at_) {
        if (int rc = connect_and_register(); rc < 0) {
            DPRINTFD("heartbeat: reconnect to %s failed: %s", socket_path.c_str(), std::strerror(-rc));
            schedule_reconnect();
        }
    }
    if (phase_ == Phase::Registering && now >= result_deadline_) {
        // A daemon that accepts but never answers is as good as gone.
        lose_connection("no answer to the registration from the daemon");
    }
    std::erase_if(pending_, [now](const auto& p) { return now >= p.second.deadline; });
}

std::optional<ghb_client::TimePoint> ghb_client::earliest_deadline() const {
    std::optional<TimePoint> at;
    auto consider = [&at](TimePoint t) {
        if (!at || t < *at) at = t;
    };
    if (!ready_.empty()) consider(Clock::now());
    if (phase_ == Phase::Backoff) consider(reconnect_at_);
    if (phase_ == Phase::Registering) consider(result_deadline_);
    for (const auto& [id, p] : pending_) consider(p.deadline);
    return at;
}

void ghb_client::arm_timer() {
    itimerspec spec{};
    if (auto at = earliest_deadline()) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at->time_since_epoch()).count();
        // steady_clock is CLOCK_MONOTONIC; an all-zero value would disarm instead of firing.
        if (ns <= 0) ns = 1;
        spec.it_value.tv_sec = ns / 1000000000;
        spec.it_value.tv_nsec = ns % 1000000000;
    }
    ::timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
}

int ghb_client::next_timeout_ms() {
    std::lock_guard lock(mu_);
    auto at = earliest_deadline();
    if (!at) return -1;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*at - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, INT32_MAX));
}

bool ghb_client::registered() {
    std::lock_guard lock(mu_);
    return phase_ == Phase::Registered;
}

int ghb_client::deregister(const char* log_msg) {
    std::lock_guard lock(mu_);
    if (phase_ == Phase::Backoff) {
        registration_.reset();
        phase_ = Phase::Idle;
        arm_timer();
        return 0;
    }
    if (sock_ < 0) return -ENOTCONN;
    ipc::ClientMessage msg;
    msg.mutable_deregister()->set_log_msg(truncated(log_msg, GHB_LOG_MAX - 1));
    flush_outbox();
    std::string bytes = msg.SerializeAsString();
    int rc = gsdk::seqpacket_send(sock_, bytes.data(), bytes.size());
    if (rc < 0) DPRINTFE("heartbeat: deregister could not be sent: %s", std::strerror(-rc));
    // Closing with unread datagrams (a challenge in flight) makes the daemon's
    // next read fail with ECONNRESET before it reaches the Deregister.
    char scrap[64];
    while (::recv(sock_, scrap, sizeof scrap, MSG_DONTWAIT | MSG_TRUNC) > 0) {}
    close_socket();
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

int ghb_client::process() {
    if (dispatcher_.load() == std::this_thread::get_id()) return -EDEADLK;
    std::lock_guard dispatch(dispatch_mu_);
    dispatcher_.store(std::this_thread::get_id());
    std::deque<Happening> todo;
    {
        std::lock_guard lock(mu_);
        uint64_t expirations;
        while (::read(timer_fd, &expirations, sizeof expirations) > 0) {}
        expire(Clock::now());
        if (sock_ >= 0) flush_outbox();
        receive_datagrams();
        todo.swap(ready_);
        arm_timer();
    }
    for (auto& h : todo) deliver(h);
    dispatcher_.store(std::thread::id{});
    return 0;
}

// Runs with no lock held except dispatch_mu_, so callbacks may call back in.
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
        if (h.generation == generation_ && phase_ == Phase::Registered) send_health(h.challenge_id, health);
        return;
    }
    case Happening::Kind::Action: {
        {
            std::lock_guard lock(mu_);
            if (h.generation != generation_ || !pending_.count(h.notice.invocation_id)) return;
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
