// The messages the two nodes of an HA pair broadcast to each other through
// their server group (libserver_group): one JSON object per broadcast, well
// under the 3050-byte limit, e.g.
//
//   {"pair":"svc","node":"ha-1","type":"heartbeat","role":"active","seq":42,"epoch":3,"priority":100,
//    "state":{"served":812,"streams":{"c1a2":{"base":812,"bits":""}}}}
//
// heartbeat  every interval, from both nodes: who is active, and (from the
//            active) the answered requests, so a standby is never far behind.
// handover   from the active to the standby: "you are active from epoch E,
//            with this state"; sent again every interval until confirmed.
// taken      from the new active: "I am active in epoch E and hold the
//            state (served N)"; the old active then steps down for good.
//
// seq counts each node's messages (a standby sees the gaps); epoch counts
// the pair's active terms, so an old claim is told from a new one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "answered_window.h"

namespace ha {

enum class Role { Starting, Standby, Active, HandingOver };
const char* to_string(Role role);

struct PairMessage {
    enum class Type { Heartbeat, Handover, Taken };
    Type type = Type::Heartbeat;
    std::string pair;  // which pair: several may share a server group
    std::string node;  // the sender's node name
    Role role = Role::Starting;
    uint64_t seq = 0;
    uint64_t epoch = 0;
    int priority = 0;
    std::string to;                        // handover: the node that is to become active
    std::optional<AnsweredStreams> state;  // heartbeat of the active, handover, taken
};

const char* to_string(PairMessage::Type type);

std::string encode(const PairMessage& message);
// nullopt, with *why, for anything that is not a well-formed pair message
// (the server group may carry other applications' broadcasts too).
std::optional<PairMessage> decode(const void* payload, std::size_t len, std::string* why);

}  // namespace ha
