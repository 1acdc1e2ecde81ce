#include "member_state.h"

#include <chrono>
#include <ctime>

#include "gsdk/json_line.h"

namespace vmhost::sg {

namespace {

struct ActionStates {
    const char* action;
    const char* task_state;  // while the executor runs
    const char* vm_state;    // once done
    const char* power_state;
};

// Task and final states as nova names them for the same operations.
constexpr ActionStates kActions[] = {
    {"stop", "powering-off", "stopped", "shutdown"},
    {"reboot", "rebooting", "active", "running"},
    {"pause", "pausing", "paused", "paused"},
    {"unpause", "unpausing", "active", "running"},
    {"suspend", "suspending", "suspended", "suspended"},
    {"resume", "resuming", "active", "running"},
    {"resize", "resize_migrating", "active", "running"},
    {"live-migrate", "migrating", "active", "running"},
    {"cold-migrate", "resize_migrating", "active", "running"},
};

const ActionStates* states_of(const std::string& action) {
    for (const auto& a : kActions)
        if (action == a.action) return &a;
    return nullptr;
}

std::string underscored(std::string s) {
    for (char& c : s)
        if (c == '-') c = '_';
    return s;
}

nlohmann::json or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    time_t secs = static_cast<time_t>(ms / 1000);
    tm utc;
    gmtime_r(&secs, &utc);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

}  // namespace

std::string apply_change(MemberState* s, const VmChange& change) {
    switch (change.kind) {
    case VmChange::Kind::HeartbeatUp:
        // A guest that starts a session is running, whatever we thought.
        if (s->task_state.empty()) {
            s->vm_state = "active";
            s->power_state = "running";
        }
        return "heartbeat_up";
    case VmChange::Kind::HeartbeatLost:
        return "heartbeat_lost";
    case VmChange::Kind::Scaled:
        return change.action == "down" ? "scale_down" : "scale_up";
    case VmChange::Kind::ActionBegin:
        if (const auto* a = states_of(change.action)) s->task_state = a->task_state;
        return underscored(change.action) + "_begin";
    case VmChange::Kind::ActionEnd:
        if (const auto* a = states_of(change.action)) {
            s->vm_state = a->vm_state;
            s->power_state = a->power_state;
        }
        s->task_state.clear();
        return underscored(change.action) + "_end";
    case VmChange::Kind::ActionFailed:
        s->task_state.clear();
        return underscored(change.action) + "_failed";
    }
    return "unknown";
}

nlohmann::json status_object(const MemberFacts& f, const MemberState& s) {
    return {{"instance_id", f.vm},          {"instance_name", f.vm},    {"host", f.host},
            {"server_groups", f.groups},    {"state", s.vm_state},      {"task_state", or_null(s.task_state)},
            {"power_state", s.power_state}, {"heartbeat", f.heartbeat}, {"messaging", f.messaging}};
}

nlohmann::json change_object(const MemberFacts& f, const MemberState& before, const MemberState& after,
                             const std::string& event_type, const std::string& reason, int online_cpus) {
    nlohmann::json j = status_object(f, after);
    j["event_type"] = event_type;
    j["old_state"] = before.vm_state;
    j["old_task_state"] = or_null(before.task_state);
    j["timestamp"] = utc_now();
    if (!reason.empty()) j["reason"] = gsdk::one_line(reason, 256);
    if (online_cpus >= 0) j["online_cpus"] = online_cpus;
    return j;
}

}  // namespace vmhost::sg
