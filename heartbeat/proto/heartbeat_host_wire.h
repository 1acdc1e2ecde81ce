// The heartbeat protocol v3 on cgcs.heartbeat (docs/protocols/heartbeat.md),
// shared by the guest daemon and the reference host so that neither restates
// the other's messages. Enum numbering follows the legacy C API enums.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gsdk::hbwire {

inline constexpr int kVersion = 3;
inline constexpr int kRevision = 1;

enum class CorrectiveAction { Unknown, None, Reboot, Stop, Log };
enum class EventType {
    Unknown,
    Stop,
    Reboot,
    Suspend,
    Pause,
    Unpause,
    Resume,
    ResizeBegin,
    ResizeEnd,
    LiveMigrateBegin,
    LiveMigrateEnd,
    ColdMigrateBegin,
    ColdMigrateEnd,
};
enum class NotificationType { Unknown, Revocable, Irrevocable };
enum class VoteResult { Unknown, Accept, Reject, Complete, Timeout, Error };

const char* to_string(CorrectiveAction v);
const char* to_string(EventType v);
const char* to_string(NotificationType v);
const char* to_string(VoteResult v);
// Unknown strings map to the Unknown value and return false.
bool from_string(std::string_view s, CorrectiveAction* out);
bool from_string(std::string_view s, EventType* out);
bool from_string(std::string_view s, NotificationType* out);
bool from_string(std::string_view s, VoteResult* out);

struct Init {
    int64_t invocation_id = 0;
    std::string name;
    int64_t heartbeat_interval_ms = 0;
    int64_t vote_secs = 0;
    int64_t shutdown_notice_secs = 0;
    int64_t suspend_notice_secs = 0;
    int64_t resume_notice_secs = 0;
    int64_t restart_secs = 0;
    CorrectiveAction corrective_action = CorrectiveAction::Reboot;
};
// Our extension, negotiated so that legacy peers never see an extra key: a
// host that lists "applications" in init_ack's optional "extensions" gets the
// guest's registered applications in challenge_response whenever they change.
inline constexpr const char* kExtensionApplications = "applications";
// A host that lists "held_challenges" waits a whole interval for each answer,
// so the guest may hold a challenge and answer the moment health changes.
inline constexpr const char* kExtensionHeldChallenges = "held_challenges";

struct InitAck {
    int64_t invocation_id = 0;
    std::vector<std::string> extensions;  // optional key, omitted when empty
};
struct ApplicationStatus {
    std::string name;
    std::string state;  // "healthy", "unhealthy", "hung", "failed"
};
struct Challenge {
    int64_t heartbeat_challenge = 0;
};
struct ChallengeResponse {
    int64_t heartbeat_response = 0;
    bool healthy = true;
    CorrectiveAction corrective_action = CorrectiveAction::Reboot;
    std::string log_msg;
    // Extension "applications": present only when the set or a state changed.
    std::optional<std::vector<ApplicationStatus>> applications;
    // With "applications": how many were left out to keep the line short.
    std::optional<int64_t> applications_omitted{};
};
struct ActionNotify {
    int64_t invocation_id = 0;
    EventType event_type = EventType::Unknown;
    NotificationType notification_type = NotificationType::Unknown;
    int64_t timeout_ms = 0;
};
struct ActionResponse {
    int64_t invocation_id = 0;
    EventType event_type = EventType::Unknown;
    NotificationType notification_type = NotificationType::Unknown;
    VoteResult vote_result = VoteResult::Unknown;
    std::string log_msg;
};
struct Exit {
    std::string log_msg;
};
struct Nack {
    int64_t invocation_id = 0;
    std::string orig_msg_type;  // optional on the wire: empty when absent
    std::string log_msg;
};

using Body = std::variant<Init, InitAck, Challenge, ChallengeResponse, ActionNotify, ActionResponse, Exit, Nack>;

struct Message {
    int64_t sequence = 0;
    Body body;
};

const char* msg_type_of(const Body& body);

// The JSON object for a message (free text flattened to one line).
nlohmann::json encode(const Message& message);
// encode() framed as "\n{...}\n".
std::string encode_line(const Message& message);

struct DecodeError {
    enum class Kind { Malformed, OldVersion, UnknownType } kind;
    std::string msg_type;  // when known
    std::string detail;
};
using Decoded = std::variant<Message, DecodeError>;
// Validates keys and types of a parsed line.
Decoded decode(const nlohmann::json& object);

}  // namespace gsdk::hbwire
