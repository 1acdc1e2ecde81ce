#include "subscribers.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gsdk/log.h"

namespace gsdk::scale {

namespace {

ipc::Direction wire_direction(scalewire::Direction d) { return d == scalewire::Direction::Up ? ipc::UP : ipc::DOWN; }

}  // namespace

Subscribers::Subscribers(EventLoop& loop, const DaemonConfig& config, Callbacks callbacks)
    : config_(config), policy_(config.access.policy()), callbacks_(std::move(callbacks)),
      server_(loop, IpcServer::Callbacks{
                        [this](IpcPeer& p) { accepted(p); },
                        [this](IpcPeer& p, std::string_view m) { message(p, m); },
                        [this](IpcPeer& p) { closed(p); },
                    }),
      sweeper_(loop, [this] { sweep(); }) {}

Subscribers::~Subscribers() { shutdown(); }

int Subscribers::listen(const std::string& path) { return server_.listen(path, config_.access.socket_access()); }

void Subscribers::shutdown() {
    sweeper_.stop();
    peers_.clear();
    per_uid_.clear();
    choosers_.clear();
    asked_.reset();
    server_.shutdown();
}

std::size_t Subscribers::subscribed() const {
    return static_cast<std::size_t>(
        std::count_if(peers_.begin(), peers_.end(), [](const auto& p) { return p.second.subscribed; }));
}

std::string Subscribers::describe(uint64_t id) const {
    auto it = peers_.find(id);
    if (it == peers_.end()) return "a subscriber that left";
    return "pid " + std::to_string(it->second.cred.pid) + " uid " + std::to_string(it->second.cred.uid);
}

void Subscribers::send(uint64_t id, const ipc::DaemonMessage& m) {
    IpcPeer* peer = server_.find(id);
    if (!peer) return;
    if (int rc = peer->send(m.SerializeAsString()); rc < 0)
        LOG_RATELIMITED(LogLevel::Warning, "send " + std::to_string(id), "subscriber %s is not reading: %s",
                        describe(id).c_str(), std::strerror(-rc));
}

void Subscribers::accepted(IpcPeer& peer) {
    const PeerCredentials& cred = peer.credentials();
    if (peers_.size() >= static_cast<std::size_t>(config_.max_subscribers)) {
        LOG_RATELIMITED(LogLevel::Warning, "full", "closed a connection of pid %d: %zu connections (MAX_SUBSCRIBERS)",
                        static_cast<int>(cred.pid), peers_.size());
        peer.close();
        return;
    }
    if (cred.uid != 0) {
        int& held = per_uid_[cred.uid];
        if (held >= config_.max_subscribers_per_uid) {
            LOG_RATELIMITED(LogLevel::Warning, "uid " + std::to_string(cred.uid),
                            "closed a connection of uid %d pid %d: it holds %d (MAX_SUBSCRIBERS_PER_UID)",
                            static_cast<int>(cred.uid), static_cast<int>(cred.pid), held);
            peer.close();
            return;
        }
        ++held;
    }
    peers_[peer.id()] = Peer{cred, Clock::now() + kSubscribeDeadline};
    if (!sweeper_.pending()) sweeper_.start(kSubscribeDeadline);
}

void Subscribers::closed(IpcPeer& peer) {
    auto it = peers_.find(peer.id());
    if (it == peers_.end()) return;
    uid_t uid = it->second.cred.uid;
    if (uid != 0) {
        auto held = per_uid_.find(uid);
        if (held != per_uid_.end() && --held->second <= 0) per_uid_.erase(held);
    }
    if (it->second.subscribed) LOG_INFO("subscriber %s left", describe(peer.id()).c_str());
    peers_.erase(it);
    bool was_front = !choosers_.empty() && choosers_.front() == peer.id();
    std::erase(choosers_, peer.id());
    if (asked_ && asked_->peer == peer.id()) {
        uint64_t request = asked_->request_id;
        asked_.reset();
        if (callbacks_.chooser_gone) callbacks_.chooser_gone(request);
    }
    if (was_front && !choosers_.empty()) {
        ipc::DaemonMessage m;
        m.mutable_chooser_changed()->set_chooser(true);
        send(choosers_.front(), m);
        LOG_NOTICE("subscriber %s now chooses the CPU to give up", describe(choosers_.front()).c_str());
    }
}

void Subscribers::refuse_and_close(IpcPeer& peer, int error, const std::string& reason) {
    ipc::DaemonMessage m;
    auto* s = m.mutable_subscribed();
    s->set_accepted(false);
    s->set_error(error);
    s->set_reason(reason);
    peer.send(m.SerializeAsString());
    // Closed after its Subscribe was read, so the refusal reaches it before EOF.
    uint64_t id = peer.id();
    closed(peer);
    if (IpcPeer* p = server_.find(id)) p->close();
}

void Subscribers::message(IpcPeer& peer, std::string_view bytes) {
    auto it = peers_.find(peer.id());
    if (it == peers_.end()) return;
    ipc::ClientMessage msg;
    if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        LOG_RATELIMITED(LogLevel::Warning, "malformed " + std::to_string(it->second.cred.uid),
                        "subscriber %s sent a malformed %zu-byte message", describe(peer.id()).c_str(), bytes.size());
        return;
    }
    switch (msg.body_case()) {
    case ipc::ClientMessage::kSubscribe:
        subscribe(peer, it->second, msg.subscribe());
        return;
    case ipc::ClientMessage::kChoiceAnswer:
        answer(peer, msg.choice_answer());
        return;
    case ipc::ClientMessage::BODY_NOT_SET:
        break;
    }
    LOG_RATELIMITED(LogLevel::Warning, "unknown " + std::to_string(it->second.cred.uid),
                    "subscriber %s sent a message of no known kind", describe(peer.id()).c_str());
}

void Subscribers::subscribe(IpcPeer& peer, Peer& p, const ipc::Subscribe& s) {
    if (p.subscribed) {
        LOG_RATELIMITED(LogLevel::Warning, "twice " + std::to_string(p.cred.uid), "subscriber %s subscribed twice",
                        describe(peer.id()).c_str());
        return;
    }
    if (auto refusal = policy_.refusal(p.cred)) {
        LOG_RATELIMITED(LogLevel::Warning, "refused uid " + std::to_string(p.cred.uid),
                        "refused uid %d pid %d: not allowed to subscribe (%s)", static_cast<int>(p.cred.uid),
                        static_cast<int>(p.cred.pid), refusal->c_str());
        refuse_and_close(peer, EACCES, "permission denied: " + *refusal);
        return;
    }
    p.subscribed = true;
    p.wants_choice = s.chooser();
    if (p.wants_choice) choosers_.push_back(peer.id());
    bool chooses = !choosers_.empty() && choosers_.front() == peer.id();
    LOG_INFO("subscriber %s subscribed%s", describe(peer.id()).c_str(),
             chooses ? " and chooses the CPU to give up" : (p.wants_choice ? " (waits to choose)" : ""));
    ipc::DaemonMessage m;
    auto* r = m.mutable_subscribed();
    r->set_accepted(true);
    r->set_chooser(chooses);
    for (unsigned cpu : online_) r->add_online_cpus(cpu);
    send(peer.id(), m);
}

void Subscribers::answer(IpcPeer& peer, const ipc::ChoiceAnswer& a) {
    if (!asked_ || asked_->peer != peer.id() || asked_->request_id != a.request_id()) {
        LOG_RATELIMITED(LogLevel::Info, "late " + std::to_string(peer.id()),
                        "subscriber %s answered question %llu, which is not open (late or not asked)",
                        describe(peer.id()).c_str(), static_cast<unsigned long long>(a.request_id()));
        return;
    }
    asked_.reset();
    if (callbacks_.answered) callbacks_.answered(a.request_id(), a.cpu());
}

bool Subscribers::ask_chooser(uint64_t request_id, const std::vector<unsigned>& online, unsigned default_cpu,
                              Millis timeout, std::string* who) {
    if (choosers_.empty()) return false;
    uint64_t id = choosers_.front();
    ipc::DaemonMessage m;
    auto* q = m.mutable_choose_cpu();
    q->set_request_id(request_id);
    for (unsigned cpu : online) q->add_online_cpus(cpu);
    q->set_default_cpu(default_cpu);
    q->set_timeout_ms(static_cast<uint32_t>(timeout.count()));
    asked_ = Question{request_id, id};
    *who = "the application (" + describe(id) + ")";
    send(id, m);
    return true;
}

void Subscribers::scale_done(scalewire::Direction direction, unsigned cpu, const std::vector<unsigned>& online,
                             const std::string& chosen_by) {
    online_ = online;
    ipc::DaemonMessage m;
    auto* d = m.mutable_scale_done();
    d->set_direction(wire_direction(direction));
    d->set_cpu(cpu);
    for (unsigned c : online) d->add_online_cpus(c);
    d->set_chosen_by(chosen_by);
    for (const auto& [id, p] : peers_)
        if (p.subscribed) send(id, m);
}

void Subscribers::sweep() {
    auto now = Clock::now();
    std::vector<uint64_t> overdue;
    std::optional<Clock::time_point> next;
    for (const auto& [id, p] : peers_) {
        if (p.subscribed) continue;
        if (now >= p.deadline)
            overdue.push_back(id);
        else if (!next || p.deadline < *next)
            next = p.deadline;
    }
    for (uint64_t id : overdue) {
        LOG_RATELIMITED(LogLevel::Info, "overdue", "closed a connection of %s: it did not subscribe within %lld ms",
                        describe(id).c_str(), static_cast<long long>(kSubscribeDeadline.count()));
        if (IpcPeer* peer = server_.find(id)) {
            closed(*peer);
            peer->close();
        }
    }
    if (next) sweeper_.start(std::chrono::ceil<Millis>(*next - now));
}

}  // namespace gsdk::scale
