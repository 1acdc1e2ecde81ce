/*
 * libserver_group, modern API (prefix sg_client_).
 *
 * A client is one membership of this process in its VM's server group: it
 * receives every broadcast from the other members and every member
 * notification, and it can broadcast and ask for every member's status. Any
 * number of processes in a VM, and any number of clients in a process, may
 * exist at once; each receives everything. Payloads follow the payload rule
 * (sg_payload_check). Every function returns 0 (or a value >= 0) on success
 * and a negative errno on failure; arguments are checked before anything
 * happens.
 *
 * Embedding: sg_client_fd() is one descriptor that stays the same for the
 * client's whole life (across daemon restarts). Wait until it is readable or
 * sg_client_next_timeout_ms() has passed, then call sg_client_process(),
 * which never blocks. The library has no threads of its own: nothing happens
 * between calls. The client connects to server-groupd at once and, when the
 * daemon is away or restarts, again by itself with back-off.
 *
 * Threading: every function may be called from any thread. Callbacks of a
 * client run only inside sg_client_process() of that client, in the caller's
 * thread, one at a time, and with no library lock held: a callback may call
 * any sg_* function on any client except sg_client_free() and
 * sg_client_process() (-EDEADLK) on its own client.
 */
#ifndef SERVER_GROUP_CLIENT_H
#define SERVER_GROUP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SG_MAX_PAYLOAD 3050 /* bytes; the same as MAX_MSG_DATA_LEN */
#define SG_DEFAULT_STATUS_TIMEOUT_MS 10000
#define SG_DEFAULT_SOCKET "/run/server-group/client.sock"
#define SG_SOCKET_ENV "SERVER_GROUP_SOCKET"

typedef struct sg_client sg_client;

/* The end of a status query, valid during the callback only. On success
 * every member's status, each a JSON text, and the same as one JSON array;
 * on failure no members and the reason. */
typedef struct {
    size_t member_count;
    const char* const* members;
    const char* members_json; /* "[...]" */
    const char* reason;       /* "" on success */
} sg_status;

typedef struct {
    /* connected = true: server-groupd accepted this client (also after a
     * reconnect). false: the connection was lost (the client reconnects by
     * itself) or refused (reason says why; EACCES: no retry follows). */
    void (*connected)(sg_client* client, bool connected, const char* reason, void* user);
    /* Another member's broadcast: len payload bytes, followed by a NUL. */
    void (*broadcast)(sg_client* client, const char* source_instance, const void* payload, size_t len, void* user);
    /* A member changed state: the host's JSON text, NUL-terminated. */
    void (*notification)(sg_client* client, const char* json, size_t len, void* user);
    /* The end of sg_client_request_status() query_id: error 0 and the whole
     * answer, or a negative errno (and status->reason): -ETIMEDOUT (no complete answer
     * in time), -ECANCELED (a newer query replaced it), -EHOSTDOWN (no host,
     * or it went away), -ECONNRESET (the daemon went away), -EPROTO (the
     * host refused it), -EMSGSIZE (answer too large), -EIO (part of it was
     * lost because the client did not read in time), -EBUSY (rate limit). */
    void (*status)(sg_client* client, uint32_t query_id, int error, const sg_status* status, void* user);
    /* Something sent was refused: by the host (error -EPROTO, its reason),
     * or by the daemon (-EBUSY over the rate limit, -EHOSTDOWN no host,
     * -ENOBUFS host not reading). msg_type: what was refused, or "". */
    void (*refused)(sg_client* client, int error, const char* msg_type, const char* reason, void* user);
    /* The daemon dropped count messages for this client because it did not
     * read them in time (a later status query catches up). */
    void (*messages_lost)(sg_client* client, uint64_t count, void* user);
} sg_callbacks;

/* Creates a client and starts connecting. socket_path NULL:
 * $SERVER_GROUP_SOCKET, else SG_DEFAULT_SOCKET. callbacks is copied (any
 * member may be NULL); user is passed back. */
int sg_client_new(sg_client** out, const sg_callbacks* callbacks, void* user, const char* socket_path);
/* Closes everything. NULL is ignored. */
void sg_client_free(sg_client* client);

/* 0 if the payload may be broadcast; -EMSGSIZE over SG_MAX_PAYLOAD bytes;
 * -EINVAL if it holds a NUL, a line feed or carriage return, or is not
 * valid UTF-8. */
int sg_payload_check(const void* payload, size_t len);

/* Sends payload to every other member of the server group (best effort: the
 * host does not confirm delivery). 0, or -EMSGSIZE / -EINVAL (payload rule),
 * -ENOTCONN (daemon not connected), -EHOSTDOWN (the daemon reports no host),
 * -EACCES (the daemon refused this client), -ENOBUFS (the daemon is not
 * reading). A later refusal by the daemon or host comes to `refused`. */
int sg_client_broadcast(sg_client* client, const void* payload, size_t len);

/* Asks for every member's status; the answer comes once, complete, to the
 * status callback, within timeout_ms (0: SG_DEFAULT_STATUS_TIMEOUT_MS; at
 * most 600000). Returns the query id (> 0), or -EINVAL (no status callback),
 * -ENOTCONN, -EHOSTDOWN, -EACCES, -ENOBUFS. An earlier query of this client
 * still running ends with -ECANCELED. */
int sg_client_request_status(sg_client* client, unsigned timeout_ms);

int sg_client_fd(const sg_client* client);
/* Milliseconds until sg_client_process() has timed work to do; -1 = none. */
int sg_client_next_timeout_ms(sg_client* client);
/* Handles whatever is ready and runs callbacks; never blocks. */
int sg_client_process(sg_client* client);

/* 1 connected and accepted, 0 not; negative errno for a bad handle. */
int sg_client_is_connected(sg_client* client);
/* Messages the daemon dropped for this client so far. */
int64_t sg_client_messages_lost(sg_client* client);

#ifdef __cplusplus
}
#endif

#endif /* SERVER_GROUP_CLIENT_H */
