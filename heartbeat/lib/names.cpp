// Printable names of the API enums, for logs. Values outside an enum print
// as "???" rather than reading past a table.

#include "enum_value.h"
#include "guest_heartbeat.h"
#include "guest_heartbeat_api.h"
#include "heartbeat_names.h"

namespace {

namespace names = gsdk::heartbeat::names;

template <std::size_t N, typename Enum>
const char* lookup(const std::array<const char*, N>& table, const Enum& value) {
    return names::name_at(table, gsdk::heartbeat::enum_value(value), "???");
}

}  // namespace

extern "C" {

const char* ghb_action_str(ghb_action action) { return lookup(names::kActions, action); }
const char* ghb_event_str(ghb_event event) { return lookup(names::kEvents, event); }
const char* ghb_notify_type_str(ghb_notify_type notify_type) { return lookup(names::kNotifyTypes, notify_type); }
const char* ghb_vote_result_str(ghb_vote_result result) { return lookup(names::kVoteResults, result); }

const char* guest_heartbeat_api_action_str(GuestHeartbeatApiActionT action) { return lookup(names::kActions, action); }
const char* guest_heartbeat_api_event_str(GuestHeartbeatApiEventT event) { return lookup(names::kEvents, event); }
const char* guest_heartbeat_api_notify_str(GuestHeartbeatApiNotifyTypeT notify) {
    return lookup(names::kNotifyTypes, notify);
}
const char* guest_heartbeat_api_vote_result_str(GuestHeartbeatApiVoteResultT vote_result) {
    return lookup(names::kVoteResults, vote_result);
}

}  // extern "C"
