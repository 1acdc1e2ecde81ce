// The host action table (docs/protocols/heartbeat.md, "Which events a host
// action raises"): for each thing the host does to a VM, which event is voted
// on and pre-notified, which is post-notified, and which of the guest's
// announced timeouts applies. Host policy: the guest never sees this table.
#pragma once

#include <optional>
#include <string_view>

#include "heartbeat_host_wire.h"

namespace vmhost {

enum class HostAction { Stop, Reboot, Pause, Unpause, Suspend, Resume, Resize, LiveMigrate, ColdMigrate };
enum class NoticeTimeout { Shutdown, Suspend, Resume };

struct ActionPlan {
    gsdk::hbwire::EventType begin_event;  // voted on (when vote) and pre-notified (when pre_notify)
    bool vote;
    bool pre_notify;
    NoticeTimeout begin_timeout;
    std::optional<gsdk::hbwire::EventType> end_event;  // post-notified after the action, when present
    NoticeTimeout end_timeout;
};

ActionPlan plan_for(HostAction action);
// "stop", "live-migrate"...: the words of vmhostctl and the control API.
const char* to_string(HostAction action);
bool from_string(std::string_view s, HostAction* out);

}  // namespace vmhost
