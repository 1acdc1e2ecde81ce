// Heartbeat protocol v3 as a schema, written from docs/protocols/heartbeat.md
// and nothing else (not from heartbeat/proto), so that our encoder, our
// decoder and the running daemon can be checked against the protocol facts.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace conformance::heartbeat {

enum class Direction { GuestToHost, HostToGuest };
// Whether our negotiated keys (docs/protocols/heartbeat.md#our-extensions-negotiated)
// may appear: never towards a legacy peer, only after our host offered them.
enum class Extensions { None, Offered };

enum class ValueKind {
    Integer,
    String,
    Action,        // corrective_action
    Health,        // heartbeat_health
    Event,         // event_type
    Notification,  // notification_type
    VoteResult,    // vote_result
    StringArray,   // init_ack.extensions (ours)
    Applications,  // challenge_response.applications (ours): name -> state
};

struct KeyRule {
    std::string key;
    ValueKind kind;
    bool required;
    bool extension;  // ours, allowed only with Extensions::Offered
};

struct MessageRule {
    std::string msg_type;
    bool guest_sends;
    bool host_sends;
    std::vector<KeyRule> keys;  // besides the common keys

    const KeyRule* find(std::string_view key) const;
};

// version, revision, msg_type, sequence: in every message.
const std::vector<KeyRule>& common_keys();
// Every message type of protocol v3.
const std::vector<MessageRule>& message_rules();
const MessageRule* rule_for(std::string_view msg_type);
// The strings a word kind allows (empty for non-word kinds).
const std::set<std::string>& allowed_words(ValueKind kind);

// "integer", "string", "object"...: JSON's own type of a value.
std::string json_kind(const nlohmann::json& value);

// Every way the object breaks the schema for a sender in that direction:
// missing or unexpected keys, wrong value types, strings outside their lists,
// a version other than 3 or revision other than 1. Empty = conforms.
std::vector<std::string> check_message(const nlohmann::json& object, Direction direction,
                                       Extensions extensions = Extensions::None);

}  // namespace conformance::heartbeat
