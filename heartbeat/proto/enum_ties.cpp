// The heartbeat's enum families are numbered alike so that every boundary
// converts by cast: the legacy C API (guest_heartbeat_api.h), our C API
// (guest_heartbeat.h), the library <-> daemon IPC (heartbeat_ipc.proto), the
// host wire (heartbeat_host_wire.h) and the name table (heartbeat_names.h).
// This file is the one place that checks it; it compiles to nothing.
#include "guest_heartbeat.h"
#include "guest_heartbeat_api.h"
#include "heartbeat_host_wire.h"
#include "heartbeat_ipc.pb.h"
#include "heartbeat_names.h"

namespace {

namespace ipc = gsdk::heartbeat::ipc;
namespace wire = gsdk::hbwire;
namespace names = gsdk::heartbeat::names;

template <typename... Values>
constexpr bool same(int first, Values... rest) {
    return ((first == static_cast<int>(rest)) && ...);
}

#define TIE_ACTION(LEGACY, OURS, IPC, WIRE) \
    static_assert(                          \
        same(GUEST_HEARTBEAT_API_ACTION_##LEGACY, GHB_ACTION_##OURS, ipc::ACTION_##IPC, wire::CorrectiveAction::WIRE))
TIE_ACTION(UNKNOWN, UNKNOWN, UNKNOWN, Unknown);
TIE_ACTION(NONE, NONE, NONE, None);
TIE_ACTION(REBOOT, REBOOT, REBOOT, Reboot);
TIE_ACTION(STOP, STOP, STOP, Stop);
TIE_ACTION(LOG, LOG, LOG, Log);
static_assert(names::kActions.size() == GUEST_HEARTBEAT_API_ACTION_MAX);

#define TIE_EVENT(LEGACY, IPC, WIRE) \
    static_assert(same(GUEST_HEARTBEAT_API_EVENT_##LEGACY, GHB_EVENT_##LEGACY, ipc::EVENT_##IPC, wire::EventType::WIRE))
TIE_EVENT(UNKNOWN, UNKNOWN, Unknown);
TIE_EVENT(STOP, STOP, Stop);
TIE_EVENT(REBOOT, REBOOT, Reboot);
TIE_EVENT(SUSPEND, SUSPEND, Suspend);
TIE_EVENT(PAUSE, PAUSE, Pause);
TIE_EVENT(UNPAUSE, UNPAUSE, Unpause);
TIE_EVENT(RESUME, RESUME, Resume);
TIE_EVENT(RESIZE_BEGIN, RESIZE_BEGIN, ResizeBegin);
TIE_EVENT(RESIZE_END, RESIZE_END, ResizeEnd);
TIE_EVENT(LIVE_MIGRATE_BEGIN, LIVE_MIGRATE_BEGIN, LiveMigrateBegin);
TIE_EVENT(LIVE_MIGRATE_END, LIVE_MIGRATE_END, LiveMigrateEnd);
TIE_EVENT(COLD_MIGRATE_BEGIN, COLD_MIGRATE_BEGIN, ColdMigrateBegin);
TIE_EVENT(COLD_MIGRATE_END, COLD_MIGRATE_END, ColdMigrateEnd);
static_assert(names::kEvents.size() == GUEST_HEARTBEAT_API_EVENT_MAX);
static_assert(ipc::Event_ARRAYSIZE == GUEST_HEARTBEAT_API_EVENT_MAX);

#define TIE_NOTIFY(LEGACY, OURS, IPC, WIRE)                                                            \
    static_assert(same(GUEST_HEARTBEAT_API_NOTIFY_TYPE_##LEGACY, GHB_NOTIFY_##OURS, ipc::NOTIFY_##IPC, \
                       wire::NotificationType::WIRE))
TIE_NOTIFY(UNKNOWN, UNKNOWN, UNKNOWN, Unknown);
TIE_NOTIFY(REVOCABLE, REVOCABLE, REVOCABLE, Revocable);
TIE_NOTIFY(IRREVOCABLE, IRREVOCABLE, IRREVOCABLE, Irrevocable);
static_assert(names::kNotifyTypes.size() == GUEST_HEARTBEAT_API_NOTIFY_TYPE_MAX);

#define TIE_VOTE(LEGACY, OURS, IPC, WIRE) \
    static_assert(                        \
        same(GUEST_HEARTBEAT_API_VOTE_RESULT_##LEGACY, GHB_VOTE_##OURS, ipc::VOTE_##IPC, wire::VoteResult::WIRE))
TIE_VOTE(UNKNOWN, UNKNOWN, UNKNOWN, Unknown);
TIE_VOTE(ACCEPT, ACCEPT, ACCEPT, Accept);
TIE_VOTE(REJECT, REJECT, REJECT, Reject);
TIE_VOTE(COMPLETE, COMPLETE, COMPLETE, Complete);
static_assert(static_cast<int>(wire::VoteResult::Error) + 1 == names::kVoteResults.size());

}  // namespace
