// The server-group layer: the `data` object of envelopes addressed to
// cgcs.server_grp (docs/server-group.md, "Wire"). Keys: version, msg_type,
// seq, source_instance, data, log_msg (and orig_msg_type in a nack).
// The inner version is never checked: the real host writes the string
// "version" there on the broadcasts it delivers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

namespace gsdk::sgwire {

inline constexpr int kLayerVersion = 2;

// --- host -> guest ---------------------------------------------------------

// Another member's payload: a string's bytes, or the JSON text of a non-string.
struct GroupBroadcast {
    std::string source_instance;
    std::string payload;
};
// A member changed state; the JSON text of `data` (a string arrives as itself).
struct GroupNotification {
    std::string text;
};
// One member's status for query `seq`, as JSON text (an element of the answer array).
struct StatusResponse {
    int64_t seq = 0;
    std::string member_json;
};
struct StatusResponseDone {
    int64_t seq = 0;
};
// The host could not parse or accept something we sent.
struct HostNack {
    std::string log_msg;
    std::string orig_msg_type;  // optional on the wire; empty when absent
};
using HostGroupMessage = std::variant<GroupBroadcast, GroupNotification, StatusResponse, StatusResponseDone, HostNack>;

// --- guest -> host ---------------------------------------------------------

struct OutgoingBroadcast {
    std::string payload;
};
struct StatusQuery {
    int64_t seq = 0;
};
using GuestGroupMessage = std::variant<OutgoingBroadcast, StatusQuery>;

struct LayerError {
    enum class Kind { Malformed, UnknownType } kind = Kind::Malformed;
    std::string msg_type;  // when known
    std::string detail;
};

using DecodedHostMessage = std::variant<HostGroupMessage, LayerError>;
using DecodedGuestMessage = std::variant<GuestGroupMessage, LayerError>;

DecodedHostMessage decode_host_message(const nlohmann::json& data);
// What a local sender (the original library) put in `data`. The payload rule
// is the caller's to apply (it knows whom to tell).
DecodedGuestMessage decode_guest_message(const nlohmann::json& data);

// Only the keys each message needs, as the original library wrote them:
// {"version":2,"msg_type":"broadcast","data":P}, {"version":2,"msg_type":"status_query","seq":N}.
nlohmann::json encode_guest_message(const GuestGroupMessage& message);
// The host's side, for hosts and tests; inner version 2.
nlohmann::json encode_host_message(const HostGroupMessage& message);

const char* msg_type_of(const HostGroupMessage& message);
const char* msg_type_of(const GuestGroupMessage& message);

}  // namespace gsdk::sgwire
