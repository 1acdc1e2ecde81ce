/*
 * vnf_legacy: a VNF written only against the legacy heartbeat API, in the
 * shape legacy VNFs have: a single-threaded select() loop on the selobj with a
 * 1 s tick, registering again until register_state(true).
 *
 * Its behaviour is steered at run time by files in --state-dir:
 *   unhealthy         answer health checks "unhealthy" (file content = log message)
 *   reject-<event>    vote reject on that event, e.g. reject-stop (content = reason)
 *   reject-all        vote reject on every event
 *   hang              stop answering: keep running but ignore the selobj
 * Every callback prints one line on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest_api_debug.h"
#include "guest_heartbeat_api.h"

static struct {
    GuestHeartbeatApiInitDataT init;
    const char* state_dir;
    bool registered;
    unsigned long health_checks;
} vnf;

static volatile sig_atomic_t stop_requested;

static void say(const char* format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char* format, ...) {
    struct timespec now;
    struct tm local;
    char stamp[16];
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &now);
    localtime_r(&now.tv_sec, &local);
    strftime(stamp, sizeof stamp, "%H:%M:%S", &local);
    printf("%s.%03ld %s: ", stamp, now.tv_nsec / 1000000, vnf.init.application_name);
    va_start(ap, format);
    vprintf(format, ap);
    va_end(ap);
    putchar('\n');
}

/* Reads flag file NAME of the state dir: false if absent; its first line (or
 * fallback) goes to text. */
static bool flag(const char* name, char* text, size_t size, const char* fallback) {
    char path[4096];
    FILE* f;
    if (!vnf.state_dir) return false;
    snprintf(path, sizeof path, "%s/%s", vnf.state_dir, name);
    f = fopen(path, "r");
    if (!f) return false;
    if (text && size) {
        if (!fgets(text, (int)size, f)) text[0] = '\0';
        text[strcspn(text, "\r\n")] = '\0';
        if (!text[0]) snprintf(text, size, "%s", fallback);
    }
    fclose(f);
    return true;
}

static void register_state(bool state) {
    vnf.registered = state;
    if (state)
        say("registered with the heartbeat daemon (interval %d ms, corrective action %s)",
            vnf.init.heartbeat_interval_ms, guest_heartbeat_api_action_str(vnf.init.corrective_action));
    else
        say("not registered (rejected or connection lost); registering again");
}

static void health_check(bool* health, GuestHeartbeatApiActionT* corrective_action, char log_msg[]) {
    ++vnf.health_checks;
    if (flag("unhealthy", log_msg, GUEST_HEARTBEAT_API_LOG_MAX, "unhealthy flag set")) {
        *health = false;
        say("health check #%lu -> unhealthy (%s), corrective action %s", vnf.health_checks, log_msg,
            guest_heartbeat_api_action_str(*corrective_action));
    } else {
        *health = true;
        say("health check #%lu -> healthy", vnf.health_checks);
    }
}

static void action_notify(int invocation_id, GuestHeartbeatApiEventT event, GuestHeartbeatApiNotifyTypeT notify_type) {
    char reason[GUEST_HEARTBEAT_API_LOG_MAX] = "";
    char file[64];
    GuestHeartbeatApiVoteResultT vote;
    const char* event_name = guest_heartbeat_api_event_str(event);
    if (notify_type == GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE) {
        snprintf(file, sizeof file, "reject-%s", event_name);
        if (flag(file, reason, sizeof reason, "rejected by the operator") ||
            flag("reject-all", reason, sizeof reason, "rejected by the operator"))
            vote = GUEST_HEARTBEAT_API_VOTE_RESULT_REJECT;
        else
            vote = GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT;
        say("vote on %s (invocation %d) -> %s%s%s", event_name, invocation_id,
            guest_heartbeat_api_vote_result_str(vote), reason[0] ? ": " : "", reason);
    } else {
        vote = GUEST_HEARTBEAT_API_VOTE_RESULT_COMPLETE;
        say("notification of %s (%s, invocation %d) -> complete", event_name,
            guest_heartbeat_api_notify_str(notify_type), invocation_id);
    }
    if (guest_heartbeat_api_send_action_response(invocation_id, event, notify_type, vote, reason) != GUEST_API_OKAY)
        say("could not send the response to invocation %d", invocation_id);
}

static void on_signal(int signo) { stop_requested = signo; }

static GuestHeartbeatApiActionT parse_action(const char* text) {
    GuestHeartbeatApiActionT a;
    for (a = GUEST_HEARTBEAT_API_ACTION_UNKNOWN; a < GUEST_HEARTBEAT_API_ACTION_MAX; ++a)
        if (strcmp(text, guest_heartbeat_api_action_str(a)) == 0) return a;
    fprintf(stderr, "unknown corrective action '%s' (none, reboot, stop, log)\n", text);
    exit(2);
}

static int parse_int(const char* text, const char* what) {
    char* end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > 86400000) {
        fprintf(stderr, "invalid %s '%s'\n", what, text);
        exit(2);
    }
    return (int)v;
}

static void usage(FILE* out) {
    fprintf(out,
            "usage: vnf_legacy [--name NAME] [--interval MS] [--action none|reboot|stop|log]\n"
            "                  [--vote-secs S] [--shutdown-secs S] [--suspend-secs S] [--resume-secs S]\n"
            "                  [--state-dir DIR] [--socket PATH]\n"
            "flags in DIR: unhealthy, reject-<event>, reject-all, hang (see the source header)\n");
}

int main(int argc, char** argv) {
    static const struct option options[] = {{"name", required_argument, NULL, 'n'},
                                            {"interval", required_argument, NULL, 'i'},
                                            {"action", required_argument, NULL, 'a'},
                                            {"vote-secs", required_argument, NULL, 'v'},
                                            {"shutdown-secs", required_argument, NULL, 'S'},
                                            {"suspend-secs", required_argument, NULL, 'P'},
                                            {"resume-secs", required_argument, NULL, 'R'},
                                            {"state-dir", required_argument, NULL, 'd'},
                                            {"socket", required_argument, NULL, 's'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    GuestHeartbeatApiCallbacksT callbacks = {register_state, health_check, action_notify};
    GuestApiErrorT last_rc = GUEST_API_OKAY;
    bool hanging = false;
    int selobj, opt;
    char process_name[] = "vnf_legacy";

    snprintf(vnf.init.application_name, sizeof vnf.init.application_name, "vnf-legacy");
    vnf.init.heartbeat_interval_ms = 1000;
    vnf.init.vote_secs = 8;
    vnf.init.shutdown_notice_secs = 5;
    vnf.init.suspend_notice_secs = 5;
    vnf.init.resume_notice_secs = 5;
    vnf.init.corrective_action = GUEST_HEARTBEAT_API_ACTION_REBOOT;
    while ((opt = getopt_long(argc, argv, "n:i:a:d:s:h", options, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (strlen(optarg) == 0 || strlen(optarg) >= GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX) {
                fprintf(stderr, "the name must be 1 to %d characters\n", GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX - 1);
                return 2;
            }
            snprintf(vnf.init.application_name, sizeof vnf.init.application_name, "%s", optarg);
            break;
        case 'i':
            vnf.init.heartbeat_interval_ms = parse_int(optarg, "interval");
            break;
        case 'a':
            vnf.init.corrective_action = parse_action(optarg);
            break;
        case 'v':
            vnf.init.vote_secs = parse_int(optarg, "vote-secs");
            break;
        case 'S':
            vnf.init.shutdown_notice_secs = parse_int(optarg, "shutdown-secs");
            break;
        case 'P':
            vnf.init.suspend_notice_secs = parse_int(optarg, "suspend-secs");
            break;
        case 'R':
            vnf.init.resume_notice_secs = parse_int(optarg, "resume-secs");
            break;
        case 'd':
            vnf.state_dir = optarg;
            break;
        case 's':
            setenv("GUEST_HEARTBEAT_SOCKET", optarg, 1);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    guest_api_debug_initialize(process_name);

    if (guest_heartbeat_api_initialize(&callbacks) != GUEST_API_OKAY) {
        say("cannot initialize the heartbeat library");
        return 1;
    }
    selobj = guest_heartbeat_api_get_selobj();
    say("started (pid %d)", (int)getpid());

    while (!stop_requested) {
        fd_set readable;
        struct timeval tick = {1, 0};
        bool hang_now = flag("hang", NULL, 0, NULL);
        if (hang_now != hanging) {
            hanging = hang_now;
            say(hanging ? "hang flag set: no longer answering the heartbeat daemon"
                        : "hang flag cleared: answering again");
        }
        if (!vnf.registered && !hanging) {
            GuestApiErrorT rc = guest_heartbeat_api_register(&vnf.init);
            if (rc != last_rc && rc != GUEST_API_OKAY)
                say("register -> %s%s", guest_api_error_str(rc),
                    rc == GUEST_API_TRY_AGAIN ? " (heartbeat daemon not reachable yet)" : "");
            last_rc = rc;
        }
        FD_ZERO(&readable);
        if (!hanging) FD_SET(selobj, &readable);
        if (select(selobj + 1, &readable, NULL, NULL, &tick) < 0) {
            if (errno == EINTR) continue;
            say("select failed: %s", strerror(errno));
            break;
        }
        if (!hanging && FD_ISSET(selobj, &readable)) guest_heartbeat_api_dispatch(selobj);
    }

    if (vnf.registered) {
        char goodbye[GUEST_HEARTBEAT_API_LOG_MAX] = "vnf_legacy exiting";
        say("deregistering (%s)", goodbye);
        guest_heartbeat_api_deregister(goodbye);
    }
    guest_heartbeat_api_finalize();
    guest_api_debug_finalize();
    say("stopped");
    return 0;
}
