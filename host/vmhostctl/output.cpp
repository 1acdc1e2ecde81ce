#include "output.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace vmhostctl {

namespace {
std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }
}  // namespace

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

std::string vm_table(const control::VmList& list) {
    std::vector<std::vector<std::string>> rows = {
        {"VM", "HEARTBEAT", "HEALTH", "INTERVAL", "CORRECTIVE", "ACTION", "MESSAGING", "GROUPS", "APPLICATIONS"}};
    for (const auto& vm : list.vms()) {
        std::string apps;
        for (const auto& a : vm.applications()) apps += (apps.empty() ? "" : ", ") + a.name() + ":" + a.state();
        if (vm.applications_truncated()) apps += ", ...";
        std::string groups;
        for (const auto& g : vm.server_groups()) groups += (groups.empty() ? "" : ",") + g;
        rows.push_back({vm.name(), vm.heartbeat(), or_dash(vm.health()),
                        vm.interval_ms() ? std::to_string(vm.interval_ms()) + "ms" : "-",
                        or_dash(vm.corrective_action()), or_dash(vm.action()), or_dash(vm.messaging()), or_dash(groups),
                        or_dash(apps)});
    }
    return format_table(rows);
}

nlohmann::json vm_json(const control::VmList& list) {
    nlohmann::json vms = nlohmann::json::array();
    for (const auto& vm : list.vms()) {
        nlohmann::json apps = nlohmann::json::array();
        for (const auto& a : vm.applications()) apps.push_back({{"name", a.name()}, {"state", a.state()}});
        vms.push_back({{"name", vm.name()},
                       {"heartbeat", vm.heartbeat()},
                       {"guest_name", vm.guest_name()},
                       {"interval_ms", vm.interval_ms()},
                       {"corrective_action", vm.corrective_action()},
                       {"health", vm.health()},
                       {"health_message", vm.health_message()},
                       {"applications", apps},
                       {"applications_truncated", vm.applications_truncated()},
                       {"action", vm.action()},
                       {"missed", vm.missed()},
                       {"messaging", vm.messaging()},
                       {"server_groups", vm.server_groups()},
                       {"messaging_counters", member_counters_json(vm.messaging_counters())}});
    }
    return {{"vms", vms}};
}

std::string outcome_name(control::Outcome outcome) {
    switch (outcome) {
    case control::ACCEPTED:
        return "accepted";
    case control::REJECTED:
        return "rejected";
    case control::ABORTED:
        return "aborted";
    case control::FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

std::string action_text(const control::ActionResult& r) {
    std::string out = r.vm() + " " + r.action() + ": " + outcome_name(r.outcome());
    if (r.outcome() == control::REJECTED)
        out += " by " + r.rejected_by() + ": " + r.reason();
    else if (!r.reason().empty())
        out += ": " + r.reason();
    if (r.without_vote()) out += " (without vote: no active heartbeat session)";
    out += "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : r.steps()) rows.push_back({"  " + local_time(s.time_ms()).substr(11), s.step(), s.detail()});
    return out + format_table(rows);
}

nlohmann::json action_json(const control::ActionResult& r) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : r.steps())
        steps.push_back({{"time_ms", s.time_ms()}, {"step", s.step()}, {"detail", s.detail()}});
    return {{"vm", r.vm()},
            {"action", r.action()},
            {"outcome", outcome_name(r.outcome())},
            {"rejected_by", r.rejected_by()},
            {"reason", r.reason()},
            {"without_vote", r.without_vote()},
            {"steps", steps}};
}

nlohmann::json member_counters_json(const control::MemberCounters& c) {
    return {{"broadcasts_in", c.broadcasts_in()},
            {"broadcasts_out", c.broadcasts_out()},
            {"notifications", c.notifications()},
            {"status_queries", c.status_queries()},
            {"nacks", c.nacks()},
            {"refused", c.refused()},
            {"dropped_in", c.dropped_in()},
            {"dropped_out", c.dropped_out()}};
}

nlohmann::json group_json(const control::ServerGroupStatus& g) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& m : g.members())
        members.push_back({{"vm", m.vm()},
                           {"messaging", m.messaging()},
                           {"state", m.state()},
                           {"task_state", m.task_state()},
                           {"heartbeat", m.heartbeat()},
                           {"counters", member_counters_json(m.counters())}});
    const auto& c = g.counters();
    return {{"name", g.name()},
            {"members", members},
            {"counters",
             {{"broadcasts", c.broadcasts()},
              {"deliveries", c.deliveries()},
              {"notifications", c.notifications()},
              {"status_queries", c.status_queries()},
              {"dropped", c.dropped()}}}};
}

std::string group_list_table(const control::GroupList& list) {
    std::vector<std::vector<std::string>> rows = {
        {"GROUP", "MEMBERS", "BROADCASTS", "DELIVERED", "NOTIFICATIONS", "QUERIES", "DROPPED"}};
    for (const auto& g : list.groups()) {
        std::string members;
        for (const auto& m : g.members()) members += (members.empty() ? "" : ",") + m.vm();
        const auto& c = g.counters();
        rows.push_back({g.name(), or_dash(members), std::to_string(c.broadcasts()), std::to_string(c.deliveries()),
                        std::to_string(c.notifications()), std::to_string(c.status_queries()),
                        std::to_string(c.dropped())});
    }
    return format_table(rows);
}

std::string group_show_text(const control::ServerGroupStatus& g) {
    const auto& c = g.counters();
    std::string out = "server group " + g.name() + ": " + std::to_string(g.members_size()) + " member(s), " +
                      std::to_string(c.broadcasts()) + " broadcasts, " + std::to_string(c.deliveries()) +
                      " delivered, " + std::to_string(c.notifications()) + " notifications, " +
                      std::to_string(c.status_queries()) + " status queries, " + std::to_string(c.dropped()) +
                      " dropped\n";
    std::vector<std::vector<std::string>> rows = {{"VM", "MESSAGING", "STATE", "TASK", "HEARTBEAT", "BCAST-IN",
                                                   "BCAST-OUT", "NOTIFIED", "QUERIES", "NACKS", "REFUSED", "DROP-IN",
                                                   "DROP-OUT"}};
    for (const auto& m : g.members()) {
        const auto& k = m.counters();
        rows.push_back({m.vm(), m.messaging(), or_dash(m.state()), or_dash(m.task_state()), or_dash(m.heartbeat()),
                        std::to_string(k.broadcasts_in()), std::to_string(k.broadcasts_out()),
                        std::to_string(k.notifications()), std::to_string(k.status_queries()),
                        std::to_string(k.nacks()), std::to_string(k.refused()), std::to_string(k.dropped_in()),
                        std::to_string(k.dropped_out())});
    }
    return out + format_table(rows);
}

std::string local_time(int64_t time_ms) {
    time_t secs = static_cast<time_t>(time_ms / 1000);
    tm local;
    localtime_r(&secs, &local);
    char buf[48];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
    char out[64];
    std::snprintf(out, sizeof out, "%s.%03d", buf, static_cast<int>(time_ms % 1000));
    return out;
}

std::vector<std::string> event_header() { return {"SEQ", "TIME", "VM", "KIND", "DETAIL"}; }

std::vector<std::string> event_row(const control::Event& e) {
    return {std::to_string(e.sequence()), local_time(e.time_ms()), e.vm(), e.kind(), e.detail()};
}

nlohmann::json event_json(const control::Event& e) {
    return {{"sequence", e.sequence()},
            {"time_ms", e.time_ms()},
            {"vm", e.vm()},
            {"kind", e.kind()},
            {"detail", e.detail()}};
}

}  // namespace vmhostctl
