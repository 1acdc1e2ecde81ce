/*
 * vnf_server_group: a VNF member of its server group, on the modern
 * server-group API (server_group_client.h), in a poll() loop.
 *
 * Once server-groupd accepts it, it broadcasts --broadcast TEXT and asks for
 * every member's status (--status); it prints every broadcast, notification
 * and status answer it gets, one line each, and runs for --seconds N (0:
 * until SIGTERM). With --status it exits once the answer came. Exit status:
 * 0, or 1 if the broadcast or the status query failed or no answer came.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_group_client.h"

static struct {
    const char* broadcast;
    bool status;
    bool done; /* the status answer came, or the query failed */
    int failures;
} vnf;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void on_connected(sg_client* client, bool connected, const char* reason, void* user) {
    (void)user;
    if (!connected) {
        /* Lost: the library connects again by itself. Refused: it does not. */
        printf("not connected: %s\n", reason);
        return;
    }
    printf("connected to server-groupd\n");
    if (vnf.broadcast) {
        int rc = sg_client_broadcast(client, vnf.broadcast, strlen(vnf.broadcast));
        if (rc < 0) {
            printf("broadcast failed: %s\n", strerror(-rc));
            vnf.failures++;
        } else {
            printf("broadcast sent: %s\n", vnf.broadcast);
        }
        vnf.broadcast = NULL; /* once, not again after a reconnect */
    }
    if (vnf.status) {
        int rc = sg_client_request_status(client, 0);
        if (rc < 0) {
            printf("status query failed: %s\n", strerror(-rc));
            vnf.failures++;
            vnf.done = true;
        }
        vnf.status = false;
    }
}

static void on_broadcast(sg_client* client, const char* source, const void* payload, size_t len, void* user) {
    (void)client, (void)user;
    printf("broadcast from %s: %.*s\n", source, (int)len, (const char*)payload);
}

static void on_notification(sg_client* client, const char* json, size_t len, void* user) {
    (void)client, (void)user, (void)len;
    printf("notification: %s\n", json);
}

static void on_status(sg_client* client, uint32_t query_id, int error, const sg_status* status, void* user) {
    (void)client, (void)user, (void)query_id;
    if (error == 0) {
        printf("status: %zu member(s): %s\n", status->member_count, status->members_json);
    } else {
        printf("status query failed: %s (%s)\n", strerror(-error), status->reason);
        vnf.failures++;
    }
    vnf.done = true;
}

static void on_refused(sg_client* client, int error, const char* msg_type, const char* reason, void* user) {
    (void)client, (void)user;
    printf("refused %s: %s (%s)\n", msg_type, strerror(-error), reason);
    vnf.failures++;
}

static void usage(FILE* out) {
    fprintf(out, "usage: vnf_server_group [--broadcast TEXT] [--status] [--seconds N] [--socket PATH]\n");
}

int main(int argc, char** argv) {
    static const struct option options[] = {
        {"broadcast", required_argument, NULL, 'b'},
        {"status", no_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"socket", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char* socket_path = NULL;
    long seconds = 0;
    for (int opt; (opt = getopt_long(argc, argv, "h", options, NULL)) != -1;) {
        switch (opt) {
        case 'b':
            vnf.broadcast = optarg;
            break;
        case 's':
            vnf.status = true;
            break;
        case 't':
            seconds = strtol(optarg, NULL, 10);
            break;
        case 'p':
            socket_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (vnf.broadcast && sg_payload_check(vnf.broadcast, strlen(vnf.broadcast)) < 0) {
        fprintf(stderr,
                "vnf_server_group: the payload breaks the payload rule (3050 bytes of UTF-8, no line breaks)\n");
        return 2;
    }
    bool exit_when_done = vnf.status;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);

    sg_callbacks callbacks = {on_connected, on_broadcast, on_notification, on_status, on_refused, NULL};
    sg_client* client;
    int rc = sg_client_new(&client, &callbacks, NULL, socket_path);
    if (rc < 0) {
        fprintf(stderr, "vnf_server_group: sg_client_new: %s\n", strerror(-rc));
        return 1;
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!stop_requested && !vnf.done) {
        int timeout = sg_client_next_timeout_ms(client);
        if (seconds > 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            long left_ms =
                seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
            if (left_ms <= 0) break;
            if (timeout < 0 || timeout > left_ms) timeout = (int)left_ms;
        }
        struct pollfd p = {sg_client_fd(client), POLLIN, 0};
        if (poll(&p, 1, timeout) < 0 && errno != EINTR) {
            perror("vnf_server_group: poll");
            break;
        }
        sg_client_process(client);
    }
    if (exit_when_done && !vnf.done) {
        printf("no status answer before the end\n");
        vnf.failures++;
    }
    sg_client_free(client);
    return vnf.failures ? 1 : 0;
}
