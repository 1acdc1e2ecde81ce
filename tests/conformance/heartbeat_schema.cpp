#include "heartbeat_schema.h"

#include <map>
#include <set>

namespace conformance {

namespace {

enum class Kind { Int, String, Action, Event, Notification, Vote, Health };

const std::map<std::string, std::map<std::string, Kind>>& table() {
    static const std::map<std::string, std::map<std::string, Kind>> t = {
        {"init",
         {{"invocation_id", Kind::Int},
          {"name", Kind::String},
          {"heartbeat_interval_ms", Kind::Int},
          {"vote_secs", Kind::Int},
          {"shutdown_notice_secs", Kind::Int},
          {"suspend_notice_secs", Kind::Int},
          {"resume_notice_secs", Kind::Int},
          {"restart_secs", Kind::Int},
          {"corrective_action", Kind::Action}}},
        {"init_ack", {{"invocation_id", Kind::Int}}},
        {"challenge", {{"heartbeat_challenge", Kind::Int}}},
        {"challenge_response",
         {{"heartbeat_response", Kind::Int},
          {"heartbeat_health", Kind::Health},
          {"corrective_action", Kind::Action},
          {"log_msg", Kind::String}}},
        {"action_notify",
         {{"invocation_id", Kind::Int},
          {"event_type", Kind::Event},
          {"notification_type", Kind::Notification},
          {"timeout_ms", Kind::Int}}},
        {"action_response",
         {{"invocation_id", Kind::Int},
          {"event_type", Kind::Event},
          {"notification_type", Kind::Notification},
          {"vote_result", Kind::Vote},
          {"log_msg", Kind::String}}},
        {"exit", {{"log_msg", Kind::String}}},
        {"nack", {{"invocation_id", Kind::Int}, {"orig_msg_type", Kind::String}, {"log_msg", Kind::String}}},
    };
    return t;
}

const std::set<std::string>& words(Kind k) {
    static const std::set<std::string> actions = {"unknown", "none", "reboot", "stop", "log"};
    static const std::set<std::string> events = {"unknown",
                                                 "stop",
                                                 "reboot",
                                                 "suspend",
                                                 "pause",
                                                 "unpause",
                                                 "resume",
                                                 "resize_begin",
                                                 "resize_end",
                                                 "live_migrate_begin",
                                                 "live_migrate_end",
                                                 "cold_migrate_begin",
                                                 "cold_migrate_end"};
    static const std::set<std::string> notifications = {"unknown", "revocable", "irrevocable"};
    static const std::set<std::string> votes = {"unknown", "accept", "reject", "complete", "timeout", "error"};
    static const std::set<std::string> health = {"healthy", "unhealthy"};
    static const std::set<std::string> none;
    switch (k) {
    case Kind::Action:
        return actions;
    case Kind::Event:
        return events;
    case Kind::Notification:
        return notifications;
    case Kind::Vote:
        return votes;
    case Kind::Health:
        return health;
    default:
        return none;
    }
}

}  // namespace

std::string json_kind(const nlohmann::json& v) {
    if (v.is_number_integer()) return "integer";
    if (v.is_number()) return "number";
    return v.type_name();
}

std::vector<std::string> check_heartbeat_line(const nlohmann::json& line, bool allow_extensions) {
    std::vector<std::string> problems;
    for (const char* k : {"version", "revision", "sequence"})
        if (!line.contains(k) || !line[k].is_number_integer()) problems.push_back(std::string(k) + " not an int");
    if (line.value("version", 0) != 3) problems.push_back("version is not 3");
    if (line.value("revision", 0) != 1) problems.push_back("revision is not 1");
    if (!line.contains("msg_type") || !line["msg_type"].is_string()) {
        problems.push_back("msg_type missing");
        return problems;
    }
    std::string type = line["msg_type"];
    auto it = table().find(type);
    if (it == table().end()) {
        problems.push_back("msg_type " + type + " not in the table");
        return problems;
    }
    for (const auto& [key, kind] : it->second) {
        if (!line.contains(key)) {
            problems.push_back(type + ": missing " + key);
            continue;
        }
        const auto& v = line[key];
        if (kind == Kind::Int) {
            if (!v.is_number_integer()) problems.push_back(type + ": " + key + " not an int");
        } else if (!v.is_string()) {
            problems.push_back(type + ": " + key + " not a string");
        } else if (kind != Kind::String && !words(kind).count(v.get<std::string>())) {
            problems.push_back(type + ": " + key + " has unknown value " + v.get<std::string>());
        }
    }
    static const std::set<std::string> common = {"version", "revision", "sequence", "msg_type"};
    static const std::set<std::string> extensions = {"applications", "extensions"};
    for (const auto& [key, value] : line.items())
        if (!common.count(key) && !it->second.count(key) && !(allow_extensions && extensions.count(key)))
            problems.push_back(type + ": unexpected key " + key);
    return problems;
}

}  // namespace conformance
