/*
 * The legacy heartbeat API of the Titanium Server guest SDK, kept source
 * compatible (names, types, enum order, callback signatures). It is a thin
 * layer over one default client of the modern API in guest_heartbeat.h.
 *
 * Typical use: initialize(callbacks); then a single-threaded select() loop on
 * get_selobj() with a 1 s tick that calls register() until register_state(true)
 * arrives (register() answers GUEST_API_TRY_AGAIN while the daemon cannot be
 * reached), and dispatch(selobj) whenever the descriptor is readable. When the
 * daemon connection drops, register_state(false) is called and the loop
 * registers again.
 */
#ifndef __GUEST_HEARTBEAT_API_H__ /* the legacy guard, which VNF sources may test */
#define __GUEST_HEARTBEAT_API_H__

#include <stdbool.h>

#include "guest_api_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX 40
#define GUEST_HEARTBEAT_API_LOG_MAX 192

typedef enum {
    GUEST_HEARTBEAT_API_ACTION_UNKNOWN,
    GUEST_HEARTBEAT_API_ACTION_NONE,
    GUEST_HEARTBEAT_API_ACTION_REBOOT,
    GUEST_HEARTBEAT_API_ACTION_STOP,
    GUEST_HEARTBEAT_API_ACTION_LOG,
    GUEST_HEARTBEAT_API_ACTION_MAX
} GuestHeartbeatApiActionT;

typedef enum {
    GUEST_HEARTBEAT_API_EVENT_UNKNOWN,
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
    GUEST_HEARTBEAT_API_EVENT_MAX
} GuestHeartbeatApiEventT;

typedef enum {
    GUEST_HEARTBEAT_API_NOTIFY_TYPE_UNKNOWN,
    GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE,   /* a vote: answer accept or reject */
    GUEST_HEARTBEAT_API_NOTIFY_TYPE_IRREVOCABLE, /* a notification: answer complete */
    GUEST_HEARTBEAT_API_NOTIFY_TYPE_MAX
} GuestHeartbeatApiNotifyTypeT;

typedef enum {
    GUEST_HEARTBEAT_API_VOTE_RESULT_UNKNOWN,
    GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT,
    GUEST_HEARTBEAT_API_VOTE_RESULT_REJECT,
    GUEST_HEARTBEAT_API_VOTE_RESULT_COMPLETE,
    GUEST_HEARTBEAT_API_VOTE_RESULT_MAX
} GuestHeartbeatApiVoteResultT;

typedef struct {
    char application_name[GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX];
    int heartbeat_interval_ms;
    int vote_secs;
    int shutdown_notice_secs;
    int suspend_notice_secs;
    int resume_notice_secs;
    GuestHeartbeatApiActionT corrective_action;
} GuestHeartbeatApiInitDataT;

/* true: the daemon accepted the registration; false: it rejected it or the
 * connection failed, and the application should register again. */
typedef void (*GuestHeartbeatApiRegisterStateCallbackT)(bool state);

/* Called on every challenge; fill in synchronously. The values arrive preset to
 * healthy, the registered corrective action and an empty log_msg
 * (GUEST_HEARTBEAT_API_LOG_MAX bytes). */
typedef void (*GuestHeartbeatApiHealthCheckCallbackT)(bool* health, GuestHeartbeatApiActionT* corrective_action,
                                                      char log_msg[]);

/* Answer with guest_heartbeat_api_send_action_response(), now or later before
 * the deadline; silence counts as accept (vote) or complete (notification). */
typedef void (*GuestHeartbeatApiActionNotifyCallbackT)(int invocation_id, GuestHeartbeatApiEventT event,
                                                       GuestHeartbeatApiNotifyTypeT notify_type);

typedef struct {
    GuestHeartbeatApiRegisterStateCallbackT register_state;
    GuestHeartbeatApiHealthCheckCallbackT health_check;
    GuestHeartbeatApiActionNotifyCallbackT action_notify;
} GuestHeartbeatApiCallbacksT;

extern const char* guest_heartbeat_api_action_str(GuestHeartbeatApiActionT action);
extern const char* guest_heartbeat_api_event_str(GuestHeartbeatApiEventT event);
extern const char* guest_heartbeat_api_notify_str(GuestHeartbeatApiNotifyTypeT notify);
extern const char* guest_heartbeat_api_vote_result_str(GuestHeartbeatApiVoteResultT vote_result);

/* All three callbacks are required. */
extern GuestApiErrorT guest_heartbeat_api_initialize(GuestHeartbeatApiCallbacksT* callbacks);
extern GuestApiErrorT guest_heartbeat_api_finalize(void);

/* GUEST_API_TRY_AGAIN while the daemon is not reachable; GUEST_API_OKAY once
 * the request is sent (the answer comes through register_state). */
extern GuestApiErrorT guest_heartbeat_api_register(GuestHeartbeatApiInitDataT* init_data);
extern GuestApiErrorT guest_heartbeat_api_deregister(char log_msg[]);

extern GuestApiErrorT guest_heartbeat_api_send_action_response(int invocation_id, GuestHeartbeatApiEventT event,
                                                               GuestHeartbeatApiNotifyTypeT notify_type,
                                                               GuestHeartbeatApiVoteResultT vote_result,
                                                               char log_msg[]);

/* One descriptor for the whole life of the library (-1 before initialize). */
extern int guest_heartbeat_api_get_selobj(void);
/* Call when the selobj is readable; it never blocks. */
extern void guest_heartbeat_api_dispatch(int selobj);

#ifdef __cplusplus
}
#endif

#endif /* __GUEST_HEARTBEAT_API_H__ */
