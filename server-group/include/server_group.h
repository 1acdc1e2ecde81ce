/*
 * libserver_group, legacy API (source compatible with the Titanium Server
 * guest SDK's server_group.h; link with -lservergroup or -lserver_group).
 *
 * Messages between the members (VMs) of this VM's server group, relayed by
 * the host. Differences from the original library, all in the caller's
 * favour: any number of processes per VM may use it; it is thread-safe;
 * sg_msg_broadcast() refuses a payload over MAX_MSG_DATA_LEN bytes (or one
 * the payload rule forbids) with a negative return, never cutting it; a
 * status query that the host does not finish makes process_sg_msg() return
 * -1 with the reason in sg_get_error() instead of waiting for ever.
 * The modern API beside it is server_group_client.h.
 */
#ifndef SERVER_GROUP_H
#define SERVER_GROUP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Largest broadcast payload, in bytes. */
#define MAX_MSG_DATA_LEN 3050

/* A broadcast from another member: its instance name and payload (msglen
 * bytes, followed by a NUL that is not counted). */
typedef void (*sg_broadcast_msg_handler_t)(char* source_instance, void* msg, unsigned short msglen);
/* A member changed state: JSON text from the host (NUL follows, not counted). */
typedef void (*sg_notification_msg_handler_t)(void* msg, unsigned short msglen);
/* The answer to sg_request_status(): a JSON array with every member's status. */
typedef void (*sg_status_msg_handler_t)(void* msg, unsigned short msglen);

/* Connects to server-groupd (reconnecting by itself later if it must) and
 * returns a file descriptor to poll for reading; negative on error. Any
 * callback may be NULL. A second call in the same process fails. */
int init_sg(sg_broadcast_msg_handler_t broadcast_handler, sg_notification_msg_handler_t notification_handler,
            sg_status_msg_handler_t status_handler);

/* Call when the descriptor is readable: runs the callbacks of what arrived.
 * 0, or -1 when something failed (a refusal from the host or the daemon, a
 * status query that failed); sg_get_error() says what. */
int process_sg_msg(void);

/* Sends msg to every other member of the server group. The payload is msg up
 * to len bytes or its first NUL, whichever comes first (len 0: up to the NUL);
 * at most MAX_MSG_DATA_LEN bytes of UTF-8 text without line breaks. 0, or -1
 * with errno (EMSGSIZE, EINVAL, ENOTCONN, EHOSTDOWN, ENOBUFS) and
 * sg_get_error() set. */
int sg_msg_broadcast(void* msg, unsigned int len);

/* Asks for every member's status; the status handler gets the answer. 0 or -1. */
int sg_request_status(void);

/* The last error of the calling thread, as text. */
char* sg_get_error(void);

#ifdef __cplusplus
}
#endif

#endif /* SERVER_GROUP_H */
