#include "ha_node.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

#include "console.h"

namespace ha {

namespace {

using namespace std::chrono_literals;

// Host events that take a VM away from the service for a while or for good.
bool takes_vm_away(ghb_event e) {
    switch (e) {
    case GHB_EVENT_STOP:
    case GHB_EVENT_REBOOT:
    case GHB_EVENT_PAUSE:
    case GHB_EVENT_SUSPEND:
    case GHB_EVENT_LIVE_MIGRATE_BEGIN:
    case GHB_EVENT_COLD_MIGRATE_BEGIN:
    case GHB_EVENT_RESIZE_BEGIN:
        return true;
    default:
        return false;
    }
}

// The same, as the host names them in member notifications; heartbeat_lost:
// the host no longer hears the VM's guest (hung or dead).
const std::set<std::string> kPeerGoneEvents = {
    "heartbeat_lost",     "stop_begin",         "reboot_begin", "pause_begin", "suspend_begin",
    "live_migrate_begin", "cold_migrate_begin", "resize_begin", "stop_end",
};

std::string text(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Answering requests, or about to stop doing so.
bool serving(Role r) { return r == Role::Active || r == Role::HandingOver; }

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

HaNode::HaNode(NodeOptions options, Broadcast broadcast)
    : options_(std::move(options)), broadcast_(std::move(broadcast)), service_(options_.service_path) {}

void HaNode::say(const char* format, ...) const {
    char text[768];
    va_list ap;
    va_start(ap, format);
    std::vsnprintf(text, sizeof text, format, ap);
    va_end(ap);
    std::printf("%s %s [%s]: %s\n", wall_clock_stamp().c_str(), options_.node.c_str(), to_string(role_), text);
}

void HaNode::complain(const std::string& cause, const std::string& detail) const {
    auto now = Clock::now();
    auto& [last, held] = complaints_[cause];
    if (last != Clock::time_point{} && now - last < 1s) {
        ++held;
        return;
    }
    if (held)
        say("%s: %s (%llu more since the last line)", cause.c_str(), detail.c_str(),
            static_cast<unsigned long long>(held));
    else
        say("%s: %s", cause.c_str(), detail.c_str());
    last = now;
    held = 0;
}

void HaNode::set_role(Role role, Clock::time_point now) {
    role_ = role;
    role_since_ = now;
}

void HaNode::start(Clock::time_point now) {
    next_heartbeat_ = now;
    say("pair %s, service %s, priority %d, heartbeat every %lld ms, the active counts as dead after %d missed",
        options_.pair.c_str(), options_.service_path.c_str(), options_.priority,
        static_cast<long long>(options_.interval.count()), options_.dead_after);
}

void HaNode::send(PairMessage::Type type, Clock::time_point now, const std::string& to) {
    PairMessage m;
    m.type = type;
    m.pair = options_.pair;
    m.node = options_.node;
    m.role = role_;
    m.seq = ++seq_;
    m.epoch = type == PairMessage::Type::Handover ? handover_epoch_ : epoch_;
    m.priority = options_.priority;
    m.to = to;
    // The active's state travels with every message it sends, so a standby
    // that takes over after a crash is at most one interval behind.
    if (role_ != Role::Standby && role_ != Role::Starting) m.state = answered_;
    if (type == PairMessage::Type::Taken) m.state = answered_;
    int rc = broadcast_(encode(m));
    if (rc == 0 && !link_up()) {
        link_up_since_ = now;
        say("link to the server group up");
    } else if (rc < 0) {
        link_down(std::strerror(-rc));
    }
}

void HaNode::link_down(const std::string& why) {
    if (link_up()) say("link to the server group down: %s", why.c_str());
    link_up_since_ = {};
}

bool HaNode::peer_silent(Clock::time_point now) const {
    return link_up() && now - std::max(peer_.last_heard, link_up_since_) > dead_time();
}

bool HaNode::peer_alive(Clock::time_point now) const {
    return !peer_.node.empty() && now - peer_.last_heard <= dead_time();
}

bool HaNode::standby_ready(Clock::time_point now) const { return peer_alive(now) && peer_.role == Role::Standby; }

// keepalived's rule: the higher priority wins, then the higher name.
bool HaNode::outranked_by_peer() const {
    if (peer_.node.empty()) return false;
    if (peer_.priority != options_.priority) return peer_.priority > options_.priority;
    return peer_.node > options_.node;
}

void HaNode::on_broadcast(const std::string& source_vm, const void* payload, std::size_t len, Clock::time_point now) {
    std::string why;
    auto m = decode(payload, len, &why);
    if (!m) {
        complain("ignored a broadcast from " + source_vm, why);
        return;
    }
    if (m->pair != options_.pair) return;  // another pair sharing the server group
    if (m->node == options_.node) {
        complain("misconfiguration", "a node in " + source_vm + " uses our node name " + m->node);
        return;
    }
    hear(source_vm, *m, now);
}

void HaNode::hear(const std::string& source_vm, const PairMessage& m, Clock::time_point now) {
    // Any member of the group can send these: each kind of line at most once a second.
    auto u = [](uint64_t v) { return std::to_string(v); };
    if (peer_.node != m.node) {
        complain("peer found", m.node + " in VM " + source_vm + " (" + to_string(m.role) + ", priority " +
                                   std::to_string(m.priority) + ")");
    } else if (m.seq <= peer_.last_seq) {
        complain("peer restarted", m.node + " (seq " + u(m.seq) + " after " + u(peer_.last_seq) + ")");
    } else if (m.seq > peer_.last_seq + 1) {
        complain("peer messages missed", u(m.seq - peer_.last_seq - 1) + " of " + m.node + " (seq " + u(m.seq) +
                                             " after " + u(peer_.last_seq) + ")");
    }
    if (peer_.node == m.node && peer_.role != m.role) complain("peer role", m.node + " is now " + to_string(m.role));
    peer_.node = m.node;
    peer_.vm = source_vm;
    peer_.role = m.role;
    peer_.priority = m.priority;
    peer_.epoch = std::max(peer_.epoch, m.epoch);
    peer_.last_seq = m.seq;
    peer_.last_heard = now;

    switch (m.type) {
    case PairMessage::Type::Heartbeat:
        if (m.role != Role::Active) break;
        if (role_ == Role::Starting) {
            epoch_ = m.epoch;
            set_role(Role::Standby, now);
            say("%s is active (epoch %llu): standing by", m.node.c_str(), static_cast<unsigned long long>(m.epoch));
        } else if (role_ == Role::Standby) {
            epoch_ = std::max(epoch_, m.epoch);
            if (m.state) answered_ = *m.state;  // keep up with what the active answered
        } else if (role_ == Role::HandingOver && m.epoch == handover_epoch_) {
            handed_over(m, now);  // its "taken" is late or lost: its heartbeat carries the state too
        } else if (!service_.holds()) {
            // Both claim to be active: the address decides.
            step_down(m.node + " holds the service address (epoch " + std::to_string(m.epoch) + ")", now);
        }
        break;
    case PairMessage::Type::Handover:
        if (m.to != options_.node) break;
        if (role_ == Role::Active && epoch_ == m.epoch) {
            send(PairMessage::Type::Taken, now);  // our confirmation was lost: again
        } else if (role_ == Role::Standby || role_ == Role::Starting) {
            answered_ = *m.state;
            become_active(m.epoch, "handover from " + m.node, now, PairMessage::Type::Taken);
        }
        break;
    case PairMessage::Type::Taken:
        if (role_ == Role::HandingOver && m.epoch == handover_epoch_) handed_over(m, now);
        break;
    }
    note_standby(now);
}

// The line an operator (and a test) waits for before moving the active: from
// now on the active would hand over rather than let the service stop.
void HaNode::note_standby(Clock::time_point now) {
    bool ready = role_ == Role::Active && standby_ready(now);
    if (ready && !standby_noted_) complain("standby ready", peer_.node + " in VM " + peer_.vm);
    standby_noted_ = ready;
}

void HaNode::handed_over(const PairMessage& m, Clock::time_point now) {
    epoch_ = m.epoch;
    service_.release();  // requests still queued here are resent by their clients to the new active
    set_role(Role::Standby, now);
    uint64_t theirs = m.state ? m.state->served() : 0;
    say("handed over to %s in %lld ms: it confirms it is active in epoch %llu with the state (%llu answered%s)",
        m.node.c_str(), ms(now - handover_started_), static_cast<unsigned long long>(m.epoch),
        static_cast<unsigned long long>(theirs), theirs >= answered_.served() ? "" : ", FEWER than here");
    if (shutting_down_) finished_ = true;
}

void HaNode::on_host_notification(const std::string& json, Clock::time_point now) {
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (!j.is_object()) {
        complain("ignored a host notification", "not a JSON object");
        return;
    }
    std::string vm = text(j, "instance_name"), event = text(j, "event_type"), reason = text(j, "reason");
    say("host: %s %s%s%s", vm.c_str(), event.c_str(), reason.empty() ? "" : ": ", reason.c_str());
    if (role_ == Role::Standby && vm == peer_.vm && serving(peer_.role) && kPeerGoneEvents.count(event))
        become_active(epoch_ + 1, "the host reports " + event + " for " + vm + ", the active's VM", now);
}

Vote HaNode::on_vote(ghb_event event, Clock::time_point now) {
    if (!takes_vm_away(event)) return {};
    if (role_ == Role::HandingOver) return {false, "handing over to " + peer_.node + "; ask again"};
    if (role_ != Role::Active) return {};
    if (!standby_ready(now)) {
        say("no standby ready: %s stops the service until this VM is back", ghb_event_str(event));
        return {};
    }
    start_handover(ghb_event_str(event), now);
    return {false, "handing over to " + peer_.node + " first; ask again"};
}

void HaNode::on_notice(ghb_event event, Clock::time_point now) {
    if (role_ == Role::Active && takes_vm_away(event) && standby_ready(now)) start_handover(ghb_event_str(event), now);
}

void HaNode::start_handover(const char* because, Clock::time_point now) {
    handover_epoch_ = epoch_ + 1;
    handover_started_ = now;
    handover_deadline_ = now + options_.handover_timeout;
    set_role(Role::HandingOver, now);  // from now on nothing is answered here
    say("%s: handing over to %s (epoch %llu, %llu answered)", because, peer_.node.c_str(),
        static_cast<unsigned long long>(handover_epoch_), static_cast<unsigned long long>(answered_.served()));
    send(PairMessage::Type::Handover, now, peer_.node);
    next_heartbeat_ = now + options_.interval;
}

void HaNode::become_active(uint64_t epoch, const std::string& why, Clock::time_point now, PairMessage::Type announce) {
    if (int rc = service_.take(options_.node); rc < 0) {
        complain("cannot take the service address " + options_.service_path, std::strerror(-rc));
        return;
    }
    epoch_ = std::max(epoch, epoch_);
    auto was = role_;
    set_role(Role::Active, now);
    say("active (epoch %llu), was %s: %s; %llu answered so far", static_cast<unsigned long long>(epoch_),
        to_string(was), why.c_str(), static_cast<unsigned long long>(answered_.served()));
    send(announce, now);
    note_standby(now);
    next_heartbeat_ = now + options_.interval;
}

void HaNode::step_down(const std::string& why, Clock::time_point now) {
    service_.release();
    set_role(Role::Standby, now);
    say("standing by: %s", why.c_str());
}

void HaNode::serve(Clock::time_point now) {
    if (role_ != Role::Active) return;
    // Fencing: a node frozen while the other took over must not answer
    // what it had queued.
    if (!service_.holds()) {
        step_down("the service address is no longer ours", now);
        return;
    }
    answer_requests();
}

void HaNode::answer_requests() {
    char buf[kMaxDatagram + 1];
    // A bounded batch, so a flood of requests cannot starve the pair's messages.
    for (int i = 0; i < 256; ++i) {
        Peer from;
        ssize_t n = service_.receive(buf, sizeof buf, &from);
        if (n == -EAGAIN) return;
        if (n < 0) {
            complain("service socket", std::strerror(static_cast<int>(-n)));
            return;
        }
        auto request = static_cast<std::size_t>(n) < sizeof buf ? parse_request(buf, n) : std::nullopt;
        if (!request) {
            complain("dropped a malformed request", std::to_string(n) + " bytes");
            continue;
        }
        if (answered_.answered(request->stream, request->n)) continue;  // a resend of an answered one
        Answer a{request->stream, request->n, options_.node, epoch_};
        if (int rc = service_.send(from, format_answer(a)); rc < 0) {
            // Not delivered, so not answered: the client's resend gets another try.
            complain("cannot answer a client", std::strerror(-rc));
            continue;
        }
        uint64_t given_up = 0;
        answered_.record(request->stream, request->n, &given_up);
        if (given_up)
            complain("client stream " + request->stream,
                     std::to_string(given_up) +
                         " number(s) never answered here left the window (answered before a crash, or abandoned)");
    }
}

void HaNode::tick(Clock::time_point now) {
    // A node whose VM was frozen (paused, migrated) or starved heard nothing
    // meanwhile, though its peer may have spoken all along: the messages are
    // still on their way. Silence counts only from now.
    if (last_tick_ != Clock::time_point{} && now - last_tick_ > dead_time() && !peer_.node.empty()) {
        say("did not run for %lld ms (VM frozen or starved): %s gets a new dead time", ms(now - last_tick_),
            peer_.node.c_str());
        peer_.last_heard = std::max(peer_.last_heard, now);
    }
    last_tick_ = now;
    switch (role_) {
    case Role::Starting:
        // Decide only after listening to the group for a dead time.
        if (!link_up() || now - link_up_since_ < dead_time()) break;
        if (peer_alive(now) && outranked_by_peer()) {
            set_role(Role::Standby, now);
            say("%s ranks higher (priority %d): standing by", peer_.node.c_str(), peer_.priority);
        } else {
            become_active(std::max(epoch_, peer_.epoch) + 1,
                          peer_alive(now) ? "no active found; we rank higher than " + peer_.node
                                          : "no active found within " + std::to_string(ms(dead_time())) + " ms",
                          now);
        }
        break;
    case Role::Standby:
        if (serving(peer_.role) && peer_silent(now)) {
            become_active(std::max(epoch_, peer_.epoch) + 1,
                          "missed " + std::to_string(options_.dead_after) + " heartbeats of " + peer_.node +
                              " (silent for " + std::to_string(ms(now - peer_.last_heard)) + " ms)",
                          now);
        } else if (!serving(peer_.role) && link_up() && now - role_since_ > dead_time() &&
                   (peer_silent(now) || !outranked_by_peer())) {
            // Nobody is active (the peer is gone or standing by too).
            become_active(std::max(epoch_, peer_.epoch) + 1,
                          "no active: " + peer_.node + " is " + (peer_silent(now) ? "silent" : to_string(peer_.role)),
                          now);
        }
        break;
    case Role::HandingOver:
        if (now < handover_deadline_) break;
        if (service_.holds()) {
            set_role(Role::Active, now);
            say("handover to %s not confirmed within %lld ms: serving again", peer_.node.c_str(),
                ms(options_.handover_timeout));
        } else {
            step_down("handover to " + peer_.node + " not confirmed, but the address is no longer ours", now);
        }
        if (shutting_down_) finished_ = true;
        break;
    case Role::Active:
        break;
    }
    if (now >= next_heartbeat_) {
        if (role_ == Role::HandingOver)
            send(PairMessage::Type::Handover, now, peer_.node);
        else
            send(PairMessage::Type::Heartbeat, now);
        next_heartbeat_ += options_.interval;
        if (next_heartbeat_ <= now) next_heartbeat_ = now + options_.interval;  // after a freeze
    }
}

Clock::time_point HaNode::next_deadline() const {
    Clock::time_point next = next_heartbeat_;
    if (role_ == Role::Starting && link_up()) next = std::min(next, link_up_since_ + dead_time());
    if (role_ == Role::Standby && link_up())
        next = std::min(next, std::max({peer_.last_heard, role_since_, link_up_since_}) + dead_time() + 1ms);
    if (role_ == Role::HandingOver) next = std::min(next, handover_deadline_);
    return next;
}

void HaNode::shut_down(Clock::time_point now) {
    if (shutting_down_) return;
    shutting_down_ = true;
    if (role_ == Role::Active && standby_ready(now)) {
        start_handover("shutting down", now);
        return;
    }
    if (role_ != Role::HandingOver) finished_ = true;
}

}  // namespace ha
