/*
 * A server-group member for the server-group-in-guest scenario, run in the
 * guest and on the host (beside a simulated VM's server-groupd): broadcasts
 * --send every 500 ms (delivery is best effort and the other side may not
 * be connected yet, so the application repeats itself), and prints one line
 * per thing it is told:
 *   expected SOURCE            a broadcast equal byte for byte to --expect
 *   broadcast SOURCE LEN       any other broadcast
 *   notification JSON          a member's state change, as the host wrote it
 *   link up|down REASON
 * until SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_group_client.h"

static volatile sig_atomic_t stop;
static const char* expect = "";

static void on_connected(sg_client* c, bool up, const char* reason, void* user)
{
    (void)c, (void)user;
    printf("link %s %s\n", up ? "up" : "down", reason ? reason : "");
}

static void on_broadcast(sg_client* c, const char* source, const void* payload, size_t len, void* user)
{
    (void)c, (void)user;
    if (len == strlen(expect) && memcmp(payload, expect, len) == 0)
        printf("expected %s\n", source);
    else
        printf("broadcast %s %zu\n", source, len);
}

static void on_notification(sg_client* c, const char* json, size_t len, void* user)
{
    (void)c, (void)len, (void)user;
    printf("notification %s\n", json);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int signo)
{
    (void)signo;
    stop = 1;
}

int main(int argc, char** argv)
{
    const char* socket = NULL;
    const char* send = NULL;
    static const struct option options[] = {
        {"socket", required_argument, NULL, 's'},
        {"send", required_argument, NULL, 'b'},
        {"expect", required_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (opt) {
        case 's': socket = optarg; break;
        case 'b': send = optarg; break;
        case 'e': expect = optarg; break;
        default: return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    sg_callbacks cb = {.connected = on_connected, .broadcast = on_broadcast, .notification = on_notification};
    sg_client* c;
    int rc = sg_client_new(&c, &cb, NULL, socket);
    if (rc < 0) {
        fprintf(stderr, "sg_member: sg_client_new: %s\n", strerror(-rc));
        return 1;
    }
    long long next_send = now_ms();
    while (!stop) {
        long long now = now_ms();
        if (send && now >= next_send) {
            rc = sg_client_broadcast(c, send, strlen(send));
            /* Not connected or no host yet: the next round tries again. */
            if (rc < 0 && rc != -ENOTCONN && rc != -EHOSTDOWN)
                fprintf(stderr, "sg_member: broadcast: %s\n", strerror(-rc));
            next_send = now + 500;
        }
        int timeout = sg_client_next_timeout_ms(c);
        int until_send = send ? (int)(next_send - now_ms()) : 1000;
        if (until_send < 0) until_send = 0;
        if (timeout < 0 || timeout > until_send) timeout = until_send;
        struct pollfd p = {sg_client_fd(c), POLLIN, 0};
        poll(&p, 1, timeout);
        sg_client_process(c);
    }
    sg_client_free(c);
    return 0;
}
