#include "heartbeat_host_wire.h"

#include <array>
#include <cstring>

#include "gsdk/json_line.h"
#include "heartbeat_names.h"

namespace gsdk::hbwire {

namespace {

namespace names = gsdk::heartbeat::names;

template <typename E, std::size_t N>
bool lookup(const std::array<const char*, N>& table, std::string_view s, E* out) {
    int v = names::value_of(table, s);
    *out = static_cast<E>(v < 0 ? 0 : v);
    return v >= 0;
}

template <typename E, std::size_t N>
const char* name_of(const std::array<const char*, N>& table, E v) {
    return names::name_at(table, static_cast<long>(v), table[0]);
}

struct Reader {
    const nlohmann::json& obj;
    std::string error;

    bool integer(const char* key, int64_t* out) {
        auto it = obj.find(key);
        if (it == obj.end()) return fail(std::string("missing key ") + key);
        if (it->is_number_unsigned()) {
            uint64_t v = it->get<uint64_t>();
            if (v > static_cast<uint64_t>(INT64_MAX)) return fail(std::string(key) + " out of range");
            *out = static_cast<int64_t>(v);
            return true;
        }
        if (!it->is_number_integer()) return fail(std::string(key) + " is not an integer");
        *out = it->get<int64_t>();
        return true;
    }
    bool text(const char* key, std::string* out) {
        auto it = obj.find(key);
        if (it == obj.end()) return fail(std::string("missing key ") + key);
        if (!it->is_string()) return fail(std::string(key) + " is not a string");
        *out = it->get<std::string>();
        return true;
    }
    bool optional_text(const char* key, std::string* out) {
        return obj.find(key) == obj.end() || text(key, out);
    }
    template <typename E>
    bool word(const char* key, E* out) {
        std::string s;
        if (!text(key, &s)) return false;
        from_string(s, out);  // an unknown word reads as Unknown, never an error
        return true;
    }
    bool fail(std::string why) {
        if (error.empty()) error = std::move(why);
        return false;
    }
};

}  // namespace

const char* to_string(CorrectiveAction v) { return name_of(names::kActions, v); }
const char* to_string(EventType v) { return name_of(names::kEvents, v); }
const char* to_string(NotificationType v) { return name_of(names::kNotifyTypes, v); }
const char* to_string(VoteResult v) { return name_of(names::kVoteResults, v); }
bool from_string(std::string_view s, CorrectiveAction* out) { return lookup(names::kActions, s, out); }
bool from_string(std::string_view s, EventType* out) { return lookup(names::kEvents, s, out); }
bool from_string(std::string_view s, NotificationType* out) { return lookup(names::kNotifyTypes, s, out); }
bool from_string(std::string_view s, VoteResult* out) { return lookup(names::kVoteResults, s, out); }

const char* msg_type_of(const Body& body) {
    static constexpr const char* kTypes[] = {"init",          "init_ack",        "challenge", "challenge_response",
                                             "action_notify", "action_response", "exit",      "nack"};
    return kTypes[body.index()];
}

nlohmann::json encode(const Message& message) {
    nlohmann::json j = {{"version", kVersion},
                        {"revision", kRevision},
                        {"msg_type", msg_type_of(message.body)},
                        {"sequence", message.sequence}};
    std::visit(
        [&j](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Init>) {
                j["invocation_id"] = m.invocation_id;
                j["name"] = one_line(m.name);
                j["heartbeat_interval_ms"] = m.heartbeat_interval_ms;
                j["vote_secs"] = m.vote_secs;
                j["shutdown_notice_secs"] = m.shutdown_notice_secs;
                j["suspend_notice_secs"] = m.suspend_notice_secs;
                j["resume_notice_secs"] = m.resume_notice_secs;
                j["restart_secs"] = m.restart_secs;
                j["corrective_action"] = to_string(m.corrective_action);
            } else if constexpr (std::is_same_v<T, InitAck>) {
                j["invocation_id"] = m.invocation_id;
                if (!m.extensions.empty()) j["extensions"] = m.extensions;
            } else if constexpr (std::is_same_v<T, Challenge>) {
                j["heartbeat_challenge"] = m.heartbeat_challenge;
            } else if constexpr (std::is_same_v<T, ChallengeResponse>) {
                j["heartbeat_response"] = m.heartbeat_response;
                j["heartbeat_health"] = m.healthy ? "healthy" : "unhealthy";
                j["corrective_action"] = to_string(m.corrective_action);
                j["log_msg"] = one_line(m.log_msg);
                if (m.applications) {
                    nlohmann::json apps = nlohmann::json::object();
                    for (const auto& a : *m.applications) apps[a.name] = a.state;
                    j[kExtensionApplications] = std::move(apps);
                    if (m.applications_omitted) j["applications_omitted"] = *m.applications_omitted;
                }
            } else if constexpr (std::is_same_v<T, ActionNotify>) {
                j["invocation_id"] = m.invocation_id;
                j["event_type"] = to_string(m.event_type);
                j["notification_type"] = to_string(m.notification_type);
                j["timeout_ms"] = m.timeout_ms;
            } else if constexpr (std::is_same_v<T, ActionResponse>) {
                j["invocation_id"] = m.invocation_id;
                j["event_type"] = to_string(m.event_type);
                j["notification_type"] = to_string(m.notification_type);
                j["vote_result"] = to_string(m.vote_result);
                j["log_msg"] = one_line(m.log_msg);
            } else if constexpr (std::is_same_v<T, Exit>) {
                j["log_msg"] = one_line(m.log_msg);
            } else if constexpr (std::is_same_v<T, Nack>) {
                j["invocation_id"] = m.invocation_id;
                if (!m.orig_msg_type.empty()) j["orig_msg_type"] = m.orig_msg_type;
                j["log_msg"] = one_line(m.log_msg);
            }
        },
        message.body);
    return j;
}

std::string encode_line(const Message& message) { return frame_json_line(encode(message)); }

Decoded decode(const nlohmann::json& obj) {
    Reader r{obj, {}};
    int64_t version = 0, revision = 0, sequence = 0;
    std::string type;
    if (!r.integer("version", &version)) return DecodeError{DecodeError::Kind::Malformed, "", r.error};
    r.text("msg_type", &type);
    if (version < kVersion)
        return DecodeError{DecodeError::Kind::OldVersion, type, "version " + std::to_string(version) + " < 3"};
    if (!r.integer("revision", &revision) || !r.text("msg_type", &type) || !r.integer("sequence", &sequence))
        return DecodeError{DecodeError::Kind::Malformed, type, r.error};

    Message m;
    m.sequence = sequence;
    bool ok;
    if (type == "init") {
        Init b;
        ok = r.integer("invocation_id", &b.invocation_id) && r.text("name", &b.name) &&
             r.integer("heartbeat_interval_ms", &b.heartbeat_interval_ms) && r.integer("vote_secs", &b.vote_secs) &&
             r.integer("shutdown_notice_secs", &b.shutdown_notice_secs) &&
             r.integer("suspend_notice_secs", &b.suspend_notice_secs) &&
             r.integer("resume_notice_secs", &b.resume_notice_secs) && r.integer("restart_secs", &b.restart_secs) &&
             r.word("corrective_action", &b.corrective_action);
        m.body = b;
    } else if (type == "init_ack") {
        InitAck b;
        ok = r.integer("invocation_id", &b.invocation_id);
        if (auto it = obj.find("extensions"); ok && it != obj.end() && it->is_array())
            for (const auto& e : *it)
                if (e.is_string()) b.extensions.push_back(e.get<std::string>());
        m.body = b;
    } else if (type == "challenge") {
        Challenge b;
        ok = r.integer("heartbeat_challenge", &b.heartbeat_challenge);
        m.body = b;
    } else if (type == "challenge_response") {
        ChallengeResponse b;
        std::string health;
        ok = r.integer("heartbeat_response", &b.heartbeat_response) && r.text("heartbeat_health", &health) &&
             r.word("corrective_action", &b.corrective_action) && r.text("log_msg", &b.log_msg);
        if (ok && health != "healthy" && health != "unhealthy") ok = r.fail("heartbeat_health is \"" + health + "\"");
        b.healthy = health == "healthy";
        if (auto it = obj.find(kExtensionApplications); ok && it != obj.end() && it->is_object()) {
            b.applications.emplace();
            for (const auto& [name, state] : it->items())
                b.applications->push_back({name, state.is_string() ? state.get<std::string>() : "unknown"});
            if (auto o = obj.find("applications_omitted"); o != obj.end() && o->is_number_integer())
                b.applications_omitted = o->get<int64_t>();
        }
        m.body = b;
    } else if (type == "action_notify") {
        ActionNotify b;
        ok = r.integer("invocation_id", &b.invocation_id) && r.word("event_type", &b.event_type) &&
             r.word("notification_type", &b.notification_type) && r.integer("timeout_ms", &b.timeout_ms);
        m.body = b;
    } else if (type == "action_response") {
        ActionResponse b;
        ok = r.integer("invocation_id", &b.invocation_id) && r.word("event_type", &b.event_type) &&
             r.word("notification_type", &b.notification_type) && r.word("vote_result", &b.vote_result) &&
             r.text("log_msg", &b.log_msg);
        m.body = b;
    } else if (type == "exit") {
        Exit b;
        ok = r.text("log_msg", &b.log_msg);
        m.body = b;
    } else if (type == "nack") {
        Nack b;
        // Optional: the real host sends none (docs/protocols/heartbeat.md#nack); ours does when it knows it.
        ok = r.integer("invocation_id", &b.invocation_id) && r.text("log_msg", &b.log_msg) &&
             r.optional_text("orig_msg_type", &b.orig_msg_type);
        m.body = b;
    } else {
        return DecodeError{DecodeError::Kind::UnknownType, type, "unknown msg_type \"" + type + "\""};
    }
    if (!ok) return DecodeError{DecodeError::Kind::Malformed, type, r.error};
    return m;
}

}  // namespace gsdk::hbwire
