/*
 * libguest_heartbeat, modern API (prefix ghb_).
 *
 * A client is one registered application: it owns one SOCK_SEQPACKET
 * connection to guest-heartbeatd, and a process may hold any number of clients.
 * Every function returns 0 (or a value >= 0) on success and a negative errno
 * on failure; arguments are checked before anything happens.
 *
 * Embedding: ghb_client_fd() is one descriptor that stays the same for the
 * client's whole life (across daemon restarts). Wait until it is readable or
 * ghb_client_next_timeout_ms() has passed, then call ghb_client_process(),
 * which never blocks. Nothing happens between calls: the library has no
 * threads of its own.
 *
 * Threading: every function may be called from any thread. Callbacks of a
 * client run only inside ghb_client_process() of that client, in the caller's
 * thread, one at a time, and with no library lock held: a callback may call
 * any ghb_* function on any client except ghb_client_free() and
 * ghb_client_process() on its own client (-EDEADLK).
 */
#ifndef GUEST_HEARTBEAT_H
#define GUEST_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GHB_APPLICATION_NAME_MAX 40 /* including the terminating NUL */
#define GHB_LOG_MAX 192             /* including the terminating NUL */
#define GHB_MIN_INTERVAL_MS 100     /* the daemon rejects shorter intervals */
#define GHB_DEFAULT_SOCKET "/run/guest-heartbeat/heartbeat.sock"
#define GHB_SOCKET_ENV "GUEST_HEARTBEAT_SOCKET"

/* Numbered like the legacy GuestHeartbeatApi*T enums, so values convert by cast. */
typedef enum {
    GHB_ACTION_UNKNOWN = 0,
    GHB_ACTION_NONE = 1,
    GHB_ACTION_REBOOT = 2,
    GHB_ACTION_STOP = 3,
    GHB_ACTION_LOG = 4
} ghb_action;

typedef enum {
    GHB_EVENT_UNKNOWN = 0,
    GHB_EVENT_STOP,
    GHB_EVENT_REBOOT,
    GHB_EVENT_SUSPEND,
    GHB_EVENT_PAUSE,
    GHB_EVENT_UNPAUSE,
    GHB_EVENT_RESUME,
    GHB_EVENT_RESIZE_BEGIN,
    GHB_EVENT_RESIZE_END,
    GHB_EVENT_LIVE_MIGRATE_BEGIN,
    GHB_EVENT_LIVE_MIGRATE_END,
    GHB_EVENT_COLD_MIGRATE_BEGIN,
    GHB_EVENT_COLD_MIGRATE_END
} ghb_event;

typedef enum {
    GHB_NOTIFY_UNKNOWN = 0,
    GHB_NOTIFY_REVOCABLE = 1,  /* a vote: answer ACCEPT or REJECT */
    GHB_NOTIFY_IRREVOCABLE = 2 /* a notification: answer COMPLETE when ready */
} ghb_notify_type;

typedef enum { GHB_VOTE_UNKNOWN = 0, GHB_VOTE_ACCEPT = 1, GHB_VOTE_REJECT = 2, GHB_VOTE_COMPLETE = 3 } ghb_vote_result;

typedef struct ghb_client ghb_client;

/* What the daemon is told at registration. */
typedef struct {
    const char* application_name;   /* 1..39 bytes, unique among the daemon's applications */
    uint32_t heartbeat_interval_ms; /* >= GHB_MIN_INTERVAL_MS */
    uint32_t vote_secs;
    uint32_t shutdown_notice_secs;
    uint32_t suspend_notice_secs;
    uint32_t resume_notice_secs;
    ghb_action corrective_action; /* applied by the host when this application fails */
} ghb_registration;

/* Filled in by the health_check callback; preset to healthy, the registered
 * corrective action and an empty log_msg. */
typedef struct {
    bool healthy;
    ghb_action corrective_action;
    char log_msg[GHB_LOG_MAX];
} ghb_health;

typedef struct {
    int32_t invocation_id; /* pass to ghb_client_respond() */
    ghb_event event;
    ghb_notify_type notify_type;
    uint32_t timeout_ms; /* time left to answer; silence = accept / complete */
} ghb_action_notice;

typedef struct {
    /* registered = true: the daemon accepted the registration (also after an
     * automatic re-registration). false: it was rejected (reason from the
     * daemon; no retry follows) or the connection was lost (reason says so;
     * the client re-registers by itself unless GHB_REGISTER_ONCE was used). */
    void (*registered)(ghb_client* client, bool registered, const char* reason, void* user);
    /* On every challenge. NULL: always healthy. */
    void (*health_check)(ghb_client* client, ghb_health* health, void* user);
    /* Answer with ghb_client_respond(), now or later. NULL: accept / complete at once. */
    void (*action_notify)(ghb_client* client, const ghb_action_notice* notice, void* user);
} ghb_callbacks;

/* Creates an unregistered client. socket_path NULL: $GUEST_HEARTBEAT_SOCKET,
 * else GHB_DEFAULT_SOCKET. callbacks is copied; user is passed back. */
int ghb_client_new(ghb_client** out, const ghb_callbacks* callbacks, void* user, const char* socket_path);
/* Closes everything without a goodbye (the daemon treats that as a failure
 * of the application: deregister first for a clean exit). NULL is ignored. */
void ghb_client_free(ghb_client* client);

/* Fail with a negative errno when the daemon cannot be reached now, and do
 * not reconnect after a lost connection (the legacy behaviour). */
#define GHB_REGISTER_ONCE 0x1u

/* Starts registering. Default: returns 0 even while the daemon is away and
 * keeps connecting with back-off; after a lost connection it reconnects and
 * registers again. -EALREADY if registering or registered, -EINVAL for a bad
 * registration, -ECONNREFUSED/-ENOENT (GHB_REGISTER_ONCE) when unreachable,
 * -EACCES when this process may not reach the daemon's socket (not root and
 * not in an allowed group; see the daemon's SOCKET_GROUP). */
int ghb_client_register(ghb_client* client, const ghb_registration* registration, unsigned flags);
/* Says goodbye (no corrective action follows) and closes the connection.
 * log_msg may be NULL. -ENOTCONN if not connected. */
int ghb_client_deregister(ghb_client* client, const char* log_msg);

/* Answers an action notice. -ENOENT: no such notice pending (unknown, already
 * answered or timed out); -EINVAL: ACCEPT/REJECT for a vote, COMPLETE for a
 * notification only. log_msg may be NULL (e.g. the reason of a reject). */
int ghb_client_respond(ghb_client* client, int32_t invocation_id, ghb_vote_result result, const char* log_msg);

int ghb_client_fd(const ghb_client* client);
/* Milliseconds until ghb_client_process() has timed work to do; -1 = none. */
int ghb_client_next_timeout_ms(ghb_client* client);
/* Handles whatever is ready and runs callbacks; never blocks. */
int ghb_client_process(ghb_client* client);

/* 1 registered, 0 not; -EACCES after the daemon refused the registration
 * for this process's credentials (reported to the registered callback as
 * well, with the daemon's reason; no retry follows); -EINVAL for a bad handle. */
int ghb_client_is_registered(ghb_client* client);

const char* ghb_action_str(ghb_action action);
const char* ghb_event_str(ghb_event event);
const char* ghb_notify_type_str(ghb_notify_type notify_type);
const char* ghb_vote_result_str(ghb_vote_result result);

#ifdef __cplusplus
}
#endif

#endif /* GUEST_HEARTBEAT_H */
