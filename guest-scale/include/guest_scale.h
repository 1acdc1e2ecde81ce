/*
 * libguest_scale: take part in vCPU scaling of this VM (prefix gs_client_).
 *
 * A client subscribes to guest-scaled. It is told the online CPUs when it
 * connects and after every scale operation (up: a CPU came online; down: one
 * went offline). A client created with `chooser` also offers to choose the CPU
 * given up on a scale down: the first such client (in the order they
 * subscribed) is asked, and the others queue behind it, taking over when it
 * goes. The one asked answers with gs_client_answer_choice() within the
 * question's timeout; silence, -1, CPU 0 or a CPU that cannot go offline
 * means guest-scaled takes its default (the highest-numbered online CPU).
 * Move work off the chosen CPU before answering: it goes offline right after.
 *
 * Every function returns 0 (or a value >= 0) on success and a negative errno
 * on failure; arguments are checked before anything happens.
 *
 * Embedding: gs_client_fd() is one descriptor that stays the same for the
 * client's whole life (across daemon restarts). Wait until it is readable or
 * gs_client_next_timeout_ms() has passed, then call gs_client_process(),
 * which never blocks. The library has no threads of its own. It connects at
 * once and, when guest-scaled is away or restarts, again by itself with
 * back-off.
 *
 * Threading: every function may be called from any thread. Callbacks run only
 * inside gs_client_process(), in the caller's thread, one at a time, with no
 * library lock held: a callback may call any gs_* function except
 * gs_client_free() and gs_client_process() (-EDEADLK) on its own client.
 */
#ifndef GUEST_SCALE_H
#define GUEST_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GS_DEFAULT_SOCKET "/run/guest-scale/scale.sock"
#define GS_SOCKET_ENV "GUEST_SCALE_SOCKET"
#define GS_MAX_CPUS 8192 /* the most CPUs a client is told of */

typedef struct gs_client gs_client;

typedef enum { GS_SCALE_UP = 1, GS_SCALE_DOWN = 2 } gs_direction;

typedef struct {
    /* connected = true: guest-scaled accepted this client (also after a
     * reconnect); chooser says whether it is the one asked; online lists the
     * online CPUs, ascending. false: the connection was lost (the client
     * reconnects by itself) or refused (error -EACCES: not allowed, no retry;
     * -EUSERS: over a quota, retried), reason says why. */
    void (*connected)(gs_client* client, bool connected, int error, bool chooser, const unsigned* online,
                      size_t online_count, const char* reason, void* user);
    /* A scale operation finished: cpu came online (GS_SCALE_UP) or went
     * offline (GS_SCALE_DOWN); online as it is now. chosen_by (down):
     * "host", "application", "helper" or "default". */
    void (*scaled)(gs_client* client, gs_direction direction, unsigned cpu, const unsigned* online, size_t online_count,
                   const char* chosen_by, void* user);
    /* This client chooses: which CPU should go? Answer with
     * gs_client_answer_choice(request_id, cpu) within timeout_ms, from this
     * callback or later; default_cpu is what goes otherwise. */
    void (*choose_cpu)(gs_client* client, uint64_t request_id, const unsigned* online, size_t online_count,
                       unsigned default_cpu, unsigned timeout_ms, void* user);
    /* The chooser before this client left: this one chooses now. */
    void (*chooser_changed)(gs_client* client, bool chooser, void* user);
} gs_callbacks;

/* Creates a client and starts connecting. socket_path NULL:
 * $GUEST_SCALE_SOCKET, else GS_DEFAULT_SOCKET. chooser: offer to choose
 * (then callbacks->choose_cpu is required, else -EINVAL). callbacks is
 * copied (any other member may be NULL); user is passed back. */
int gs_client_new(gs_client** out, const gs_callbacks* callbacks, void* user, const char* socket_path, bool chooser);
/* Closes everything; an unanswered question falls back to the default.
 * NULL is ignored. */
void gs_client_free(gs_client* client);

/* Answers the question request_id: cpu (>= 1) to take offline, or -1 for no
 * preference. -ENOENT: no such question open (answered, or its time is up:
 * the daemon has taken the default), -EINVAL: cpu out of range, -ENOTCONN. */
int gs_client_answer_choice(gs_client* client, uint64_t request_id, int cpu);

/* Copies up to max online CPUs (ascending) into cpus; returns how many are
 * online (may be > max), or -ENOTCONN before the first acceptance. */
int gs_client_online_cpus(gs_client* client, unsigned* cpus, size_t max);
/* 1 if this client is the one asked to choose, 0 if not. */
int gs_client_is_chooser(gs_client* client);
/* 1 connected and accepted, 0 not. */
int gs_client_is_connected(gs_client* client);

int gs_client_fd(const gs_client* client);
/* Milliseconds until gs_client_process() has timed work to do; -1 = none. */
int gs_client_next_timeout_ms(gs_client* client);
/* Handles whatever is ready and runs callbacks; never blocks. */
int gs_client_process(gs_client* client);

#ifdef __cplusplus
}
#endif

#endif /* GUEST_SCALE_H */
