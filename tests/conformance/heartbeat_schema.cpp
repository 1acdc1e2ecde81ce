#include "heartbeat_schema.h"

namespace conformance::heartbeat {

namespace {

using K = ValueKind;

// Required, optional (legacy), ours (negotiated extension).
KeyRule req(const char* key, ValueKind kind) { return {key, kind, true, false}; }
KeyRule opt(const char* key, ValueKind kind) { return {key, kind, false, false}; }
KeyRule ours(const char* key, ValueKind kind) { return {key, kind, false, true}; }

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

bool has_kind(const nlohmann::json& v, ValueKind kind, std::string* why) {
    switch (kind) {
    case K::Integer:
        if (v.is_number_integer()) return true;
        *why = "is " + json_kind(v) + ", not an integer";
        return false;
    case K::String:
        if (v.is_string()) return true;
        *why = "is " + json_kind(v) + ", not a string";
        return false;
    case K::StringArray:
        if (!v.is_array()) {
            *why = "is " + json_kind(v) + ", not an array";
            return false;
        }
        for (const auto& e : v)
            if (!e.is_string()) {
                *why = "holds a " + json_kind(e) + ", not only strings";
                return false;
            }
        return true;
    case K::Applications: {
        static const std::set<std::string> states = {"healthy", "unhealthy", "hung", "failed"};
        if (!v.is_object()) {
            *why = "is " + json_kind(v) + ", not an object";
            return false;
        }
        for (const auto& [name, state] : v.items())
            if (!state.is_string() || !states.count(state.get<std::string>())) {
                *why = "gives " + name + " the state " + state.dump();
                return false;
            }
        return true;
    }
    default:  // a word from a fixed list
        if (!v.is_string()) {
            *why = "is " + json_kind(v) + ", not a string";
            return false;
        }
        if (allowed_words(kind).count(v.get<std::string>())) return true;
        *why = "is " + in_quotes(v.get<std::string>()) + ", not one of the protocol's strings";
        return false;
    }
}

}  // namespace

const KeyRule* MessageRule::find(std::string_view key) const {
    for (const auto& k : keys)
        if (k.key == key) return &k;
    return nullptr;
}

const std::vector<KeyRule>& common_keys() {
    static const std::vector<KeyRule> keys = {req("version", K::Integer), req("revision", K::Integer),
                                              req("msg_type", K::String), req("sequence", K::Integer)};
    return keys;
}

const std::vector<MessageRule>& message_rules() {
    // docs/protocols/heartbeat.md#messages: one entry per message section.
    static const std::vector<MessageRule> rules = {
        {"init",
         true,
         false,
         {req("invocation_id", K::Integer), req("name", K::String), req("heartbeat_interval_ms", K::Integer),
          req("vote_secs", K::Integer), req("shutdown_notice_secs", K::Integer), req("suspend_notice_secs", K::Integer),
          req("resume_notice_secs", K::Integer), req("restart_secs", K::Integer), req("corrective_action", K::Action)}},
        {"init_ack", false, true, {req("invocation_id", K::Integer), ours("extensions", K::StringArray)}},
        {"challenge", false, true, {req("heartbeat_challenge", K::Integer)}},
        {"challenge_response",
         true,
         false,
         {req("heartbeat_response", K::Integer), req("heartbeat_health", K::Health),
          req("corrective_action", K::Action), req("log_msg", K::String), ours("applications", K::Applications)}},
        {"action_notify",
         false,
         true,
         {req("invocation_id", K::Integer), req("event_type", K::Event), req("notification_type", K::Notification),
          req("timeout_ms", K::Integer)}},
        {"action_response",
         true,
         false,
         {req("invocation_id", K::Integer), req("event_type", K::Event), req("notification_type", K::Notification),
          req("vote_result", K::VoteResult), req("log_msg", K::String)}},
        {"exit", true, true, {req("log_msg", K::String)}},
        {"nack",
         false,
         true,
         {req("invocation_id", K::Integer), req("log_msg", K::String), opt("orig_msg_type", K::String)}},
    };
    return rules;
}

const MessageRule* rule_for(std::string_view msg_type) {
    for (const auto& r : message_rules())
        if (r.msg_type == msg_type) return &r;
    return nullptr;
}

const std::set<std::string>& allowed_words(ValueKind kind) {
    // docs/protocols/heartbeat.md#value-strings
    static const std::set<std::string> actions = {"unknown", "none", "reboot", "stop", "log"};
    static const std::set<std::string> health = {"healthy", "unhealthy"};
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
    static const std::set<std::string> none;
    switch (kind) {
    case K::Action:
        return actions;
    case K::Health:
        return health;
    case K::Event:
        return events;
    case K::Notification:
        return notifications;
    case K::VoteResult:
        return votes;
    default:
        return none;
    }
}

std::string json_kind(const nlohmann::json& v) {
    if (v.is_number_integer()) return "integer";
    if (v.is_number()) return "number";
    return v.type_name();
}

std::vector<std::string> check_message(const nlohmann::json& object, Direction direction, Extensions extensions) {
    std::vector<std::string> problems;
    if (!object.is_object()) return {"not a JSON object"};
    std::string why;
    for (const auto& k : common_keys()) {
        auto it = object.find(k.key);
        if (it == object.end())
            problems.push_back("missing " + k.key);
        else if (!has_kind(*it, k.kind, &why))
            problems.push_back(k.key + " " + why);
    }
    if (object.contains("version") && object["version"] != 3) problems.push_back("version is not 3");
    if (object.contains("revision") && object["revision"] != 1) problems.push_back("revision is not 1");
    auto type_it = object.find("msg_type");
    if (type_it == object.end() || !type_it->is_string()) return problems;
    std::string type = *type_it;
    const MessageRule* rule = rule_for(type);
    if (!rule) {
        problems.push_back("msg_type " + in_quotes(type) + " is not a protocol v3 message");
        return problems;
    }
    bool may_send = direction == Direction::GuestToHost ? rule->guest_sends : rule->host_sends;
    if (!may_send)
        problems.push_back(type + " is not sent " +
                           (direction == Direction::GuestToHost ? "by the guest" : "by the host"));
    for (const auto& k : rule->keys) {
        auto it = object.find(k.key);
        if (it == object.end()) {
            if (k.required) problems.push_back(type + ": missing " + k.key);
            continue;
        }
        if (k.extension && extensions == Extensions::None)
            problems.push_back(type + ": " + k.key + " is our extension, not offered by this host");
        if (!has_kind(*it, k.kind, &why)) problems.push_back(type + ": " + k.key + " " + why);
    }
    for (const auto& [key, value] : object.items()) {
        bool common = false;
        for (const auto& k : common_keys()) common = common || k.key == key;
        if (!common && !rule->find(key)) problems.push_back(type + ": unexpected key " + key);
    }
    return problems;
}

}  // namespace conformance::heartbeat
