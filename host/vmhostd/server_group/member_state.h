// What the relay knows of one member, in the words of an OpenStack compute
// notification (the legacy host relayed those): vm_state, task_state,
// power_state, plus the heartbeat session's state. vmhostd has no VM
// inventory, so a member starts as active/running and follows what the host
// does to it (the executor) and what its heartbeat says.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vm_observer.h"

namespace vmhost::sg {

struct MemberState {
    std::string vm_state = "active";      // active, paused, suspended, stopped
    std::string task_state;               // empty = none; pausing, rebooting, migrating...
    std::string power_state = "running";  // running, paused, suspended, shutdown
};

// Applies a change; returns the notification's event_type (docs/vmhost.md):
// "<action>_begin|_end|_failed" (action with '_' for '-'), "heartbeat_up",
// "heartbeat_lost", "scale_up", "scale_down".
std::string apply_change(MemberState* state, const VmChange& change);

// What a member looks like to the others.
struct MemberFacts {
    std::string vm;
    std::string host;                 // the host's name
    std::vector<std::string> groups;  // server groups the VM is in
    std::string heartbeat;            // the heartbeat session's state (vmhostctl list)
    std::string messaging;            // connected, disconnected, none
};

// The `data` of a status_response.
nlohmann::json status_object(const MemberFacts& facts, const MemberState& state);
// The `data` of a notification: the status plus event_type, old_state,
// old_task_state, timestamp (UTC, ISO 8601) and, when given, reason and
// online_cpus (scaling).
nlohmann::json change_object(const MemberFacts& facts, const MemberState& before, const MemberState& after,
                             const std::string& event_type, const std::string& reason, int online_cpus = -1);

}  // namespace vmhost::sg
