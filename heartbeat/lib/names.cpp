// Printable names of the API enums, for logs. Values outside an enum print
// as "???" rather than reading past a table.
#include <iterator>

#include "enum_value.h"
#include "guest_api_types.h"
#include "guest_heartbeat.h"
#include "guest_heartbeat_api.h"

namespace {

constexpr const char* kActions[] = {"unknown", "none", "reboot", "stop", "log"};
constexpr const char* kEvents[] = {"unknown",
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
constexpr const char* kNotifyTypes[] = {"unknown", "revocable", "irrevocable"};
constexpr const char* kVoteResults[] = {"unknown", "accept", "reject", "complete"};
constexpr const char* kErrors[] = {"okay", "failed", "interrupted", "try-again"};

template <std::size_t N>
const char* lookup(const char* const (&table)[N], int value) {
    return value >= 0 && static_cast<std::size_t>(value) < N ? table[value] : "???";
}

static_assert(GHB_ACTION_LOG == static_cast<int>(GUEST_HEARTBEAT_API_ACTION_LOG));
static_assert(GHB_EVENT_COLD_MIGRATE_END == static_cast<int>(GUEST_HEARTBEAT_API_EVENT_COLD_MIGRATE_END));
static_assert(GHB_NOTIFY_IRREVOCABLE == static_cast<int>(GUEST_HEARTBEAT_API_NOTIFY_TYPE_IRREVOCABLE));
static_assert(GHB_VOTE_COMPLETE == static_cast<int>(GUEST_HEARTBEAT_API_VOTE_RESULT_COMPLETE));
static_assert(std::size(kEvents) == GUEST_HEARTBEAT_API_EVENT_MAX);
static_assert(std::size(kActions) == GUEST_HEARTBEAT_API_ACTION_MAX);

}  // namespace

extern "C" {

const char* guest_api_error_str(GuestApiErrorT error) { return lookup(kErrors, gsdk::heartbeat::enum_value(error)); }

const char* ghb_action_str(ghb_action action) { return lookup(kActions, gsdk::heartbeat::enum_value(action)); }
const char* ghb_event_str(ghb_event event) { return lookup(kEvents, gsdk::heartbeat::enum_value(event)); }
const char* ghb_notify_type_str(ghb_notify_type notify_type) {
    return lookup(kNotifyTypes, gsdk::heartbeat::enum_value(notify_type));
}
const char* ghb_vote_result_str(ghb_vote_result result) {
    return lookup(kVoteResults, gsdk::heartbeat::enum_value(result));
}

const char* guest_heartbeat_api_action_str(GuestHeartbeatApiActionT action) {
    return lookup(kActions, gsdk::heartbeat::enum_value(action));
}
const char* guest_heartbeat_api_event_str(GuestHeartbeatApiEventT event) {
    return lookup(kEvents, gsdk::heartbeat::enum_value(event));
}
const char* guest_heartbeat_api_notify_str(GuestHeartbeatApiNotifyTypeT notify) {
    return lookup(kNotifyTypes, gsdk::heartbeat::enum_value(notify));
}
const char* guest_heartbeat_api_vote_result_str(GuestHeartbeatApiVoteResultT vote_result) {
    return lookup(kVoteResults, gsdk::heartbeat::enum_value(vote_result));
}

}  // extern "C"
