/*
 * scale_worker: an application that takes part in vCPU scaling with
 * libguest_scale. It spreads its work (a few named shards) over the online
 * CPUs. On a scale down it is asked which CPU to give up: it picks the
 * online CPU (never 0) carrying the fewest shards, moves those shards to the
 * other CPUs first, and only then answers, so nothing runs on a CPU as it
 * goes offline. After a scale up it spreads shards onto the new CPU.
 *
 *   scale_worker [--socket PATH] [--shards N] [--placement FILE] [--no-choose]
 *
 * --placement FILE is rewritten after every change, one "shard CPU" line per
 * shard (what a demo or test looks at). Logs go to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_scale.h"

#define MAX_SHARDS 64

struct worker {
    int shards;
    unsigned shard_cpu[MAX_SHARDS];
    unsigned online[GS_MAX_CPUS];
    size_t online_count;
    const char* placement;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static int load(const struct worker* w, unsigned cpu) {
    int n = 0;
    for (int i = 0; i < w->shards; ++i) n += w->shard_cpu[i] == cpu;
    return n;
}

static int is_online(const struct worker* w, unsigned cpu) {
    for (size_t i = 0; i < w->online_count; ++i)
        if (w->online[i] == cpu) return 1;
    return 0;
}

/* The online CPU other than `avoid` with the fewest shards. */
static unsigned least_loaded(const struct worker* w, unsigned avoid) {
    unsigned best = w->online[0];
    int best_load = MAX_SHARDS + 1;
    for (size_t i = 0; i < w->online_count; ++i) {
        unsigned cpu = w->online[i];
        if (cpu == avoid) continue;
        if (load(w, cpu) < best_load) {
            best = cpu;
            best_load = load(w, cpu);
        }
    }
    return best;
}

static void write_placement(const struct worker* w) {
    if (!w->placement) return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", w->placement);
    FILE* f = fopen(tmp, "w");
    if (!f) return;
    for (int i = 0; i < w->shards; ++i) fprintf(f, "shard-%d %u\n", i, w->shard_cpu[i]);
    if (fclose(f) == 0) rename(tmp, w->placement);
}

static void set_online(struct worker* w, const unsigned* online, size_t n) {
    if (n > GS_MAX_CPUS) n = GS_MAX_CPUS;
    memcpy(w->online, online, n * sizeof *online);
    w->online_count = n;
}

/* Shards on CPUs no longer online move to the least loaded online CPU; with
 * spread, shards also move onto idle CPUs while that evens the load. */
static void rebalance(struct worker* w, int spread) {
    if (w->online_count == 0) return;
    for (int i = 0; i < w->shards; ++i) {
        if (!is_online(w, w->shard_cpu[i])) {
            unsigned to = least_loaded(w, GS_MAX_CPUS);
            printf("shard-%d: CPU %u is offline, moved to CPU %u\n", i, w->shard_cpu[i], to);
            w->shard_cpu[i] = to;
        }
    }
    for (int moved = 1; spread && moved;) {
        moved = 0;
        for (int i = 0; i < w->shards; ++i) {
            unsigned to = least_loaded(w, w->shard_cpu[i]);
            if (load(w, to) + 1 < load(w, w->shard_cpu[i])) {
                printf("shard-%d: moved from CPU %u to CPU %u\n", i, w->shard_cpu[i], to);
                w->shard_cpu[i] = to;
                moved = 1;
            }
        }
    }
    write_placement(w);
    fflush(stdout);
}

static void connected(gs_client* c, bool up, int error, bool chooser, const unsigned* online, size_t n,
                      const char* reason, void* user) {
    struct worker* w = user;
    (void)c;
    if (!up) {
        printf("guest-scaled: not connected (%s: %s)\n", strerror(-error ? -error : ENOTCONN), reason);
        fflush(stdout);
        return;
    }
    printf("guest-scaled: connected, %zu CPUs online%s\n", n, chooser ? ", this worker chooses" : "");
    set_online(w, online, n);
    rebalance(w, 1);
}

static void scaled(gs_client* c, gs_direction d, unsigned cpu, const unsigned* online, size_t n, const char* by,
                   void* user) {
    struct worker* w = user;
    (void)c;
    printf("scale %s: CPU %u %s%s%s\n", d == GS_SCALE_UP ? "up" : "down", cpu, d == GS_SCALE_UP ? "online" : "offline",
           d == GS_SCALE_DOWN ? ", chosen by " : "", d == GS_SCALE_DOWN ? by : "");
    set_online(w, online, n);
    rebalance(w, d == GS_SCALE_UP);
}

/* Gives up the CPU carrying the least work, after moving that work away. */
static void choose_cpu(gs_client* c, uint64_t request_id, const unsigned* online, size_t n, unsigned default_cpu,
                       unsigned timeout_ms, void* user) {
    struct worker* w = user;
    set_online(w, online, n);
    unsigned pick = 0;
    int pick_load = MAX_SHARDS + 1;
    for (size_t i = 0; i < n; ++i) { /* ties go to the lowest: the work is usually spread from the top */
        if (online[i] == 0) continue;
        if (load(w, online[i]) < pick_load) {
            pick = online[i];
            pick_load = load(w, online[i]);
        }
    }
    if (pick == 0) {
        printf("asked to choose (default CPU %u): no CPU to offer\n", default_cpu);
        gs_client_answer_choice(c, request_id, -1);
        fflush(stdout);
        return;
    }
    printf("asked to choose within %u ms (default CPU %u): giving up CPU %u (%d shards)\n", timeout_ms, default_cpu,
           pick, pick_load);
    for (int i = 0; i < w->shards; ++i) {
        if (w->shard_cpu[i] != pick) continue;
        unsigned to = least_loaded(w, pick);
        printf("shard-%d: moved from CPU %u to CPU %u before it goes\n", i, pick, to);
        w->shard_cpu[i] = to;
    }
    write_placement(w);
    int rc = gs_client_answer_choice(c, request_id, (int)pick);
    if (rc < 0) printf("answer not taken: %s\n", strerror(-rc));
    fflush(stdout);
}

int main(int argc, char** argv) {
    static const struct option options[] = {{"socket", required_argument, NULL, 's'},
                                            {"shards", required_argument, NULL, 'n'},
                                            {"placement", required_argument, NULL, 'p'},
                                            {"no-choose", no_argument, NULL, 'c'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    struct worker w = {.shards = 6};
    const char* socket_path = NULL;
    bool chooser = true;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            socket_path = optarg;
            break;
        case 'n':
            w.shards = atoi(optarg);
            if (w.shards < 1 || w.shards > MAX_SHARDS) {
                fprintf(stderr, "scale_worker: --shards takes 1..%d\n", MAX_SHARDS);
                return 2;
            }
            break;
        case 'p':
            w.placement = optarg;
            break;
        case 'c':
            chooser = false;
            break;
        default:
            fprintf(stderr, "usage: scale_worker [--socket PATH] [--shards N] [--placement FILE] [--no-choose]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    gs_callbacks cb = {.connected = connected, .scaled = scaled, .choose_cpu = choose_cpu};
    gs_client* client = NULL;
    int rc = gs_client_new(&client, &cb, &w, socket_path, chooser);
    if (rc < 0) {
        fprintf(stderr, "scale_worker: gs_client_new: %s\n", strerror(-rc));
        return 1;
    }
    printf("scale_worker: %d shards, %s\n", w.shards, chooser ? "offers to choose" : "only listens");
    fflush(stdout);
    while (!stopping) {
        struct pollfd p = {.fd = gs_client_fd(client), .events = POLLIN};
        int timeout = gs_client_next_timeout_ms(client);
        if (poll(&p, 1, timeout < 0 || timeout > 1000 ? 1000 : timeout) < 0 && errno != EINTR) break;
        gs_client_process(client);
    }
    gs_client_free(client);
    return 0;
}
