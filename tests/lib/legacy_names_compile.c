/* Compile-only proof that a legacy VNF source using every legacy name builds
 * unchanged against our headers in strict C99 with warnings as errors. */
#include <stdio.h>
#include <string.h>

#include "guest_api_debug.h"
#include "guest_api_types.h"
#include "guest_heartbeat_api.h"

#ifndef __GUEST_HEARTBEAT_API_H__
#error "legacy guard __GUEST_HEARTBEAT_API_H__ missing"
#endif

static bool g_registered = false;

static void register_state(bool state) { g_registered = state; }

static void health_check(bool* health, GuestHeartbeatApiActionT* corrective_action, char log_msg[]) {
    *health = true;
    *corrective_action = GUEST_HEARTBEAT_API_ACTION_NONE;
    snprintf(log_msg, GUEST_HEARTBEAT_API_LOG_MAX, "%s", "");
}

static void action_notify(int invocation_id, GuestHeartbeatApiEventT event, GuestHeartbeatApiNotifyTypeT notify_type) {
    char log_msg[GUEST_HEARTBEAT_API_LOG_MAX] = "";
    GuestHeartbeatApiVoteResultT vote = notify_type == GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE
                                            ? GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT
                                            : GUEST_HEARTBEAT_API_VOTE_RESULT_COMPLETE;
    DPRINTFI("%s %s -> %s", guest_heartbeat_api_event_str(event), guest_heartbeat_api_notify_str(notify_type),
             guest_heartbeat_api_vote_result_str(vote));
    guest_heartbeat_api_send_action_response(invocation_id, event, notify_type, vote, log_msg);
}

int legacy_names_use_everything(void);
int legacy_names_use_everything(void) {
    char name[] = "legacy";
    GuestHeartbeatApiCallbacksT callbacks;
    GuestHeartbeatApiInitDataT init;
    GuestApiErrorT rc;
    GuestApiDebugLogLevelT levels[] = {GUEST_API_DEBUG_LOG_LEVEL_ERROR, GUEST_API_DEBUG_LOG_LEVEL_INFO,
                                       GUEST_API_DEBUG_LOG_LEVEL_DEBUG, GUEST_API_DEBUG_LOG_LEVEL_VERBOSE};
    GuestApiErrorT errors[] = {GUEST_API_OKAY, GUEST_API_FAILED, GUEST_API_INTERRUPTED, GUEST_API_TRY_AGAIN};
    GuestHeartbeatApiActionT actions[] = {GUEST_HEARTBEAT_API_ACTION_UNKNOWN, GUEST_HEARTBEAT_API_ACTION_NONE,
                                          GUEST_HEARTBEAT_API_ACTION_REBOOT,  GUEST_HEARTBEAT_API_ACTION_STOP,
                                          GUEST_HEARTBEAT_API_ACTION_LOG,     GUEST_HEARTBEAT_API_ACTION_MAX};
    GuestHeartbeatApiEventT events[] = {GUEST_HEARTBEAT_API_EVENT_UNKNOWN,
                                        GUEST_HEARTBEAT_API_EVENT_STOP,
                                        GUEST_HEARTBEAT_API_EVENT_REBOOT,
                                        GUEST_HEARTBEAT_API_EVENT_SUSPEND,
                                        GUEST_HEARTBEAT_API_EVENT_PAUSE,
                                        GUEST_HEARTBEAT_API_EVENT_UNPAUSE,
                                        GUEST_HEARTBEAT_API_EVENT_RESUME,
                                        GUEST_HEARTBEAT_API_EVENT_RESIZE_BEGIN,
                                        GUEST_HEARTBEAT_API_EVENT_RESIZE_END,
                                        GUEST_HEARTBEAT_API_EVENT_LIVE_MIGRATE_BEGIN,
                                        GUEST_HEARTBEAT_API_EVENT_LIVE_MIGRATE_END,
                                        GUEST_HEARTBEAT_API_EVENT_COLD_MIGRATE_BEGIN,
                                        GUEST_HEARTBEAT_API_EVENT_COLD_MIGRATE_END,
                                        GUEST_HEARTBEAT_API_EVENT_MAX};
    GuestHeartbeatApiNotifyTypeT notifies[] = {
        GUEST_HEARTBEAT_API_NOTIFY_TYPE_UNKNOWN, GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE,
        GUEST_HEARTBEAT_API_NOTIFY_TYPE_IRREVOCABLE, GUEST_HEARTBEAT_API_NOTIFY_TYPE_MAX};
    GuestHeartbeatApiVoteResultT votes[] = {
        GUEST_HEARTBEAT_API_VOTE_RESULT_UNKNOWN, GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT,
        GUEST_HEARTBEAT_API_VOTE_RESULT_REJECT, GUEST_HEARTBEAT_API_VOTE_RESULT_COMPLETE,
        GUEST_HEARTBEAT_API_VOTE_RESULT_MAX};
    GuestHeartbeatApiRegisterStateCallbackT rs = register_state;
    GuestHeartbeatApiHealthCheckCallbackT hc = health_check;
    GuestHeartbeatApiActionNotifyCallbackT an = action_notify;
    char bye[GUEST_HEARTBEAT_API_LOG_MAX] = "bye";
    int selobj;

    guest_api_debug_initialize(name);
    guest_api_debug_set_log_level(levels[1]);
    if (guest_api_debug_want_log(levels[2])) guest_api_debug_log("%s", guest_api_debug_log_level_str(levels[3]));
    DPRINTFE("error %d", 1);
    DPRINTFI("info");
    DPRINTFD("debug %s", "x");
    DPRINTFV("verbose");
    printf("%s %s %s %s %s %s\n", guest_api_error_str(errors[3]), guest_heartbeat_api_action_str(actions[5]),
           guest_heartbeat_api_event_str(events[13]), guest_heartbeat_api_notify_str(notifies[3]),
           guest_heartbeat_api_vote_result_str(votes[4]), guest_api_error_str(errors[0]));

    callbacks.register_state = rs;
    callbacks.health_check = hc;
    callbacks.action_notify = an;
    if (guest_heartbeat_api_initialize(&callbacks) != GUEST_API_OKAY) return -1;
    memset(&init, 0, sizeof init);
    snprintf(init.application_name, GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX, "%s", name);
    init.heartbeat_interval_ms = 1000;
    init.vote_secs = 8;
    init.shutdown_notice_secs = 5;
    init.suspend_notice_secs = 5;
    init.resume_notice_secs = 5;
    init.corrective_action = actions[2];
    rc = guest_heartbeat_api_register(&init);
    selobj = guest_heartbeat_api_get_selobj();
    if (rc == GUEST_API_OKAY && g_registered) guest_heartbeat_api_dispatch(selobj);
    guest_heartbeat_api_deregister(bye);
    guest_heartbeat_api_finalize();
    guest_api_debug_finalize();
    return rc == GUEST_API_INTERRUPTED ? 1 : 0;
}
