#include "server_group_relay.h"

#include <unistd.h>
#include <cerrno>
#include <climits>

#include "gsdk/log.h"
#include "server_group/group_messages.h"

namespace vmhost {

namespace {

constexpr std::size_t kListedGroupsPerVm = 16;

std::set<std::string> names_of(const std::vector<std::unique_ptr<SupervisedVm>>& vms) {
    std::set<std::string> names;
    for (const auto& vm : vms) names.insert(vm->name());
    return names;
}

std::string local_host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) < 0) return "localhost";
    return name;
}

std::string joined(const std::vector<std::string>& list) {
    std::string out;
    for (const auto& s : list) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

ServerGroupRelay::ServerGroupRelay(EventLog& events, MessagingHub& hub,
                                   const std::vector<std::unique_ptr<SupervisedVm>>& vms,
                                   const std::vector<ServerGroupConfig>& groups)
    : events_(events), hub_(hub), vms_(vms), table_(names_of(vms)), host_(local_host_name()) {
    for (const auto& g : groups) {
        // The configuration was checked when it was read.
        if (auto e = table_.create(g.name, g.members); !e.empty())
            LOG_ERROR("server group %s: %s", g.name.c_str(), e.c_str());
    }
    for (const auto& vm : vms) states_[vm->name()];
}

void ServerGroupRelay::record_guest(const std::string& vm, const std::string& kind, const std::string& detail,
                                    gsdk::LogLevel level) {
    LogBudget& budget = log_budgets_[vm];
    if (!budget.bucket.take(gsdk::Clock::now())) {
        ++budget.held;
        return;
    }
    std::string note = budget.held ? " (" + std::to_string(budget.held) + " similar events not recorded)" : "";
    budget.held = 0;
    events_.record(vm, kind, detail + note, level);
}

void ServerGroupRelay::port_connected(const std::string& vm) {
    // A guest can make its socket come and go at will: these are guest events.
    record_guest(vm, "messaging", "messaging socket " + hub_.port(vm)->address().path + " connected",
                 gsdk::LogLevel::Info);
}

void ServerGroupRelay::port_disconnected(const std::string& vm, const std::string& cause) {
    record_guest(vm, "messaging", "messaging socket: " + cause, gsdk::LogLevel::Notice);
}

void ServerGroupRelay::received(const std::string& vm, Envelope&& envelope) {
    sg::GuestMessage message = sg::decode(envelope.data);
    // Answers go to the service that asked (its source_addr, added by the guest's relay).
    const std::string reply_to = envelope.source_addr.empty() ? std::string(sg::kAddress) : envelope.source_addr;
    if (auto* b = std::get_if<sg::Broadcast>(&message)) {
        broadcast(vm, b->payload, reply_to);
    } else if (auto* q = std::get_if<sg::StatusQuery>(&message)) {
        status_query(vm, q->seq, reply_to);
    } else if (auto* n = std::get_if<sg::GuestNack>(&message)) {
        record_guest(vm, "server-group", "the guest refused a message of ours: " + n->log_msg);
    } else {
        const auto& r = std::get<sg::Refused>(message);
        refuse(vm, r.reason, r.msg_type, reply_to);
    }
}

void ServerGroupRelay::refused(const std::string& vm, const std::string& reason, const std::string& msg_type) {
    refuse(vm, reason, msg_type, std::string(sg::kAddress));
}

void ServerGroupRelay::refuse(const std::string& vm, const std::string& reason, const std::string& msg_type,
                              const std::string& reply_to) {
    ++table_.counters(vm).refused;
    record_guest(vm, "server-group",
                 "refused " + (msg_type.empty() ? std::string("a line") : msg_type) + ": " + reason);
    if (send(vm, sg::nack(reason, msg_type), reply_to)) ++table_.counters(vm).nacks;
}

void ServerGroupRelay::rate_limited(const std::string& vm) {
    record_guest(vm, "server-group", "messages over the rate limit dropped (see vmhostctl group show)");
}

bool ServerGroupRelay::send_line(const std::string& to, const std::string& line) {
    MessagingPort* port = hub_.port(to);
    if (!port) return false;  // no messaging socket: the member only appears in status and notifications
    int rc = port->send_line(line);
    if (rc == 0) return true;
    ++table_.counters(to).dropped;
    // A member not connected (VM stopped, server-groupd restarting) is only
    // counted; one that does not read is worth an event, at the guest rate.
    if (rc == -ENOBUFS)
        record_guest(to, "server-group", "messages for this VM dropped: it is not reading (queue full)");
    return false;
}

bool ServerGroupRelay::send(const std::string& to, const nlohmann::json& data, const std::string& dest_addr) {
    return send_line(to, encode_envelope(Envelope{std::string(sg::kAddress), dest_addr, data}));
}

void ServerGroupRelay::broadcast(const std::string& from, const std::string& payload, const std::string& reply_to) {
    auto groups = table_.groups_of(from);
    if (groups.empty()) {
        refuse(from, from + " is not a member of any server group", "broadcast", reply_to);
        return;
    }
    ++table_.counters(from).broadcasts_in;
    for (auto* g : groups) ++g->counters.broadcasts;
    std::string address(sg::kAddress);
    // One encoding for every copy: the bytes each member gets are identical.
    std::string line = encode_envelope(Envelope{address, address, sg::broadcast(from, payload)});
    for (const auto& to : table_.members_with(from, false)) {
        if (!hub_.port(to)) continue;
        sg::ServerGroup* g = table_.shared_group(from, to);
        if (send_line(to, line)) {
            ++table_.counters(to).broadcasts_out;
            ++g->counters.deliveries;
        } else {
            ++g->counters.dropped;
        }
    }
}

void ServerGroupRelay::status_query(const std::string& from, int64_t seq, const std::string& reply_to) {
    ++table_.counters(from).status_queries;
    for (auto* g : table_.groups_of(from)) ++g->counters.status_queries;
    // A VM in no group gets an empty answer rather than none: its application waits for "done".
    for (const auto& member : table_.members_with(from, true))
        send(from, sg::status_response(seq, sg::status_object(facts(member), states_[member])), reply_to);
    send(from, sg::status_response_done(seq), reply_to);
}

void ServerGroupRelay::notify(const std::vector<std::string>& members, const std::string& about,
                              const nlohmann::json& change, sg::ServerGroup* group) {
    std::string address(sg::kAddress);
    std::string line = encode_envelope(Envelope{address, address, sg::notification(change)});
    for (const auto& to : members) {
        if (to == about || !hub_.port(to)) continue;
        sg::ServerGroup* g = group ? group : table_.shared_group(about, to);
        if (send_line(to, line)) {
            ++table_.counters(to).notifications;
            if (g) ++g->counters.notifications;
        } else if (g) {
            ++g->counters.dropped;
        }
    }
}

void ServerGroupRelay::vm_changed(const VmChange& change) {
    auto it = states_.find(change.vm);
    if (it == states_.end()) return;
    sg::MemberState before = it->second;
    std::string event_type = sg::apply_change(&it->second, change);
    if (table_.groups_of(change.vm).empty()) return;
    notify(table_.members_with(change.vm, false), change.vm,
           sg::change_object(facts(change.vm), before, it->second, event_type, change.detail, change.online_cpus));
}

std::string ServerGroupRelay::messaging_state(const std::string& vm) const {
    const MessagingPort* port = hub_.port(vm);
    if (!port) return "none";
    return port->connected() ? "connected" : "disconnected";
}

sg::MemberFacts ServerGroupRelay::facts(const std::string& vm) const {
    sg::MemberFacts f;
    f.vm = vm;
    f.host = host_;
    f.groups = table_.group_names_of(vm);
    f.messaging = messaging_state(vm);
    f.heartbeat = heartbeat_state(vm);
    return f;
}

std::string ServerGroupRelay::heartbeat_state(const std::string& vm) const {
    for (const auto& v : vms_)
        if (v->name() == vm) return v->heartbeat_state();
    return "";
}

void ServerGroupRelay::fill_counters(const std::string& vm, control::MemberCounters* c) const {
    if (const sg::MemberCounters* m = table_.counters_of(vm)) {
        c->set_broadcasts_in(m->broadcasts_in);
        c->set_broadcasts_out(m->broadcasts_out);
        c->set_notifications(m->notifications);
        c->set_status_queries(m->status_queries);
        c->set_nacks(m->nacks);
        c->set_refused(m->refused);
        c->set_dropped_out(m->dropped);
    }
    if (const MessagingPort* port = hub_.port(vm)) c->set_dropped_in(port->counters().rate_dropped);
}

void ServerGroupRelay::fill_member(const std::string& vm, control::GroupMember* m) const {
    m->set_vm(vm);
    m->set_messaging(messaging_state(vm));
    auto it = states_.find(vm);
    if (it != states_.end()) {
        m->set_state(it->second.vm_state);
        m->set_task_state(it->second.task_state);
    }
    m->set_heartbeat(heartbeat_state(vm));
    fill_counters(vm, m->mutable_counters());
}

std::string ServerGroupRelay::list_groups(const std::string& group, control::GroupList* out) const {
    if (!group.empty() && !table_.find(group)) return "unknown server group \"" + group + "\"";
    for (const auto& g : table_.groups()) {
        if (!group.empty() && g.name != group) continue;
        auto* s = out->add_groups();
        s->set_name(g.name);
        for (const auto& vm : g.members) fill_member(vm, s->add_members());
        auto* c = s->mutable_counters();
        c->set_broadcasts(g.counters.broadcasts);
        c->set_deliveries(g.counters.deliveries);
        c->set_notifications(g.counters.notifications);
        c->set_status_queries(g.counters.status_queries);
        c->set_dropped(g.counters.dropped);
    }
    return "";
}

std::string ServerGroupRelay::change_group(const control::ChangeGroup& change, control::GroupList* out) {
    std::vector<std::string> vms(change.vms().begin(), change.vms().end());
    const std::string& name = change.group();
    std::string error, what;
    switch (change.operation()) {
    case control::ChangeGroup::CREATE:
        error = table_.create(name, vms);
        what = "server group " + name + " created" + (vms.empty() ? "" : " with " + joined(vms));
        break;
    case control::ChangeGroup::DELETE:
        if (!vms.empty()) return "delete takes no VM";
        error = table_.remove_group(name);
        what = "server group " + name + " deleted";
        break;
    case control::ChangeGroup::ADD:
        error = table_.add_members(name, vms);
        what = joined(vms) + " added to server group " + name;
        break;
    case control::ChangeGroup::REMOVE:
        error = table_.remove_members(name, vms);
        what = joined(vms) + " removed from server group " + name;
        break;
    default:
        return "unknown group operation";
    }
    if (!error.empty()) return error;
    LOG_NOTICE("%s", what.c_str());
    for (const auto& vm : vms) events_.record(vm, "server-group", what);
    // The group's other members hear of who joined or left it.
    if (change.operation() == control::ChangeGroup::ADD || change.operation() == control::ChangeGroup::REMOVE) {
        sg::ServerGroup* g = table_.find(name);
        std::string event_type =
            change.operation() == control::ChangeGroup::ADD ? "server_group_join" : "server_group_leave";
        for (const auto& vm : vms) {
            std::vector<std::string> others;
            for (const auto& m : g->members)
                if (m != vm) others.push_back(m);
            nlohmann::json j = sg::change_object(facts(vm), states_[vm], states_[vm], event_type, "");
            j["server_group"] = name;
            notify(others, vm, j, g);
        }
    }
    if (change.operation() != control::ChangeGroup::DELETE) list_groups(name, out);
    return "";
}

void ServerGroupRelay::fill_vm_status(const std::string& vm, control::VmStatus* s) const {
    s->set_messaging(messaging_state(vm));
    // A VM can be in up to 1024 groups: `list` names the first few, keeping
    // the reply (every VM) within one datagram; `group list` has them all.
    auto names = table_.group_names_of(vm);
    for (std::size_t i = 0; i < names.size() && i < kListedGroupsPerVm; ++i) s->add_server_groups(names[i]);
    if (names.size() > kListedGroupsPerVm) s->add_server_groups("...");
    fill_counters(vm, s->mutable_messaging_counters());
}

}  // namespace vmhost
