/*
 * The anchor of bench/server_group: corosync's closed process groups on one
 * node. `members` processes join one group (CPG allows one join per group
 * per process); the first multicasts (CPG_TYPE_AGREED), the others receive,
 * with the same stream, window and payload as the relay's run
 * (bench_stream.h). The sender's own copy, which CPG delivers too, is read
 * and not counted.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "bench_stream.h"

#define MAX_MEMBERS 64

static struct bench_stream* stream;
static unsigned receiver = 0; /* 1-based in a receiver process, 0 in the sender */
static size_t members_seen;

static void on_deliver(cpg_handle_t handle, const struct cpg_name* group, uint32_t nodeid, uint32_t pid, void* msg,
                       size_t len)
{
    (void)handle, (void)group, (void)nodeid, (void)pid;
    if (receiver) bench_stream_delivered(stream, receiver - 1, msg, len);
}

static void on_confchg(cpg_handle_t handle, const struct cpg_name* group, const struct cpg_address* list,
                       size_t entries, const struct cpg_address* left, size_t left_entries,
                       const struct cpg_address* joined, size_t joined_entries)
{
    (void)handle, (void)group, (void)list, (void)left, (void)left_entries, (void)joined, (void)joined_entries;
    members_seen = entries;
}

static int join(cpg_handle_t* handle, int* fd)
{
    static cpg_callbacks_t callbacks = {on_deliver, on_confchg};
    struct cpg_name group;
    strcpy(group.value, "gsdk-bench");
    group.length = (uint32_t)strlen(group.value);
    cs_error_t rc = cpg_initialize(handle, &callbacks);
    if (rc != CS_OK) {
        fprintf(stderr, "cpg_bench: cpg_initialize: error %d (is corosync running?)\n", rc);
        return -1;
    }
    while ((rc = cpg_join(*handle, &group)) == CS_ERR_TRY_AGAIN) usleep(1000);
    if (rc != CS_OK) {
        fprintf(stderr, "cpg_bench: cpg_join: error %d\n", rc);
        return -1;
    }
    cpg_fd_get(*handle, fd);
    return 0;
}

static int run_receiver(void)
{
    cpg_handle_t handle;
    int fd;
    if (join(&handle, &fd) < 0) return 1;
    bench_stream_ready(stream, receiver - 1);
    uint64_t deadline = bench_now_ns() + 180000000000ull;
    while (!bench_stream_aborted(stream) && bench_now_ns() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 100);
        if (cpg_dispatch(handle, CS_DISPATCH_ALL) != CS_OK) break;
        if (bench_stream_done(stream)) break;
    }
    cpg_finalize(handle);
    return 0;
}

int main(int argc, char** argv)
{
    unsigned count = 4, window = 64;
    unsigned long messages = 20000;
    size_t size = 3050;
    const char* mode = "throughput";
    static const struct option options[] = {
        {"members", required_argument, NULL, 'n'}, {"messages", required_argument, NULL, 'm'},
        {"window", required_argument, NULL, 'w'},  {"size", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'o'},    {NULL, 0, NULL, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "", options, NULL)) != -1;) {
        switch (opt) {
        case 'n': count = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'm': messages = strtoul(optarg, NULL, 10); break;
        case 'w': window = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'o': mode = optarg; break;
        default: return 2;
        }
    }
    if (count < 2 || count > MAX_MEMBERS || messages == 0) {
        fprintf(stderr, "cpg_bench: --members 2..%d, --messages > 0\n", MAX_MEMBERS);
        return 2;
    }
    stream = bench_stream_create(count - 1, messages, window, size);
    if (!stream) return 1;
    pid_t children[MAX_MEMBERS];
    for (unsigned r = 1; r < count; ++r) {
        children[r] = fork();
        if (children[r] == 0) {
            receiver = r;
            _exit(run_receiver());
        }
    }
    cpg_handle_t handle;
    int fd, status = 1;
    char* buf = malloc(size + 64);
    if (join(&handle, &fd) < 0) goto out;
    /* Everyone has joined and the sender sees the whole group. */
    uint64_t deadline = bench_now_ns() + 30000000000ull;
    while (!(bench_stream_all_ready(stream) && members_seen == count)) {
        if (bench_now_ns() > deadline) {
            fprintf(stderr, "cpg_bench: the group never formed (%zu of %u)\n", members_seen, count);
            goto out;
        }
        bench_stream_wait(stream, fd, 100);
        cpg_dispatch(handle, CS_DISPATCH_ALL);
    }
    deadline = bench_now_ns() + 120000000000ull;
    while (!bench_stream_done(stream) && bench_now_ns() < deadline) {
        while (bench_stream_can_send(stream)) {
            struct iovec iov = {buf, bench_stream_next(stream, buf)};
            cs_error_t rc = cpg_mcast_joined(handle, CPG_TYPE_AGREED, &iov, 1);
            if (rc == CS_ERR_TRY_AGAIN) { /* corosync's queue is full: later */
                bench_stream_unsend(stream);
                break;
            }
            if (rc != CS_OK) {
                fprintf(stderr, "cpg_bench: cpg_mcast_joined: error %d\n", rc);
                goto out;
            }
        }
        bench_stream_wait(stream, fd, 10);
        cpg_dispatch(handle, CS_DISPATCH_ALL);
    }
    bench_stream_report(stream, stdout, "cpg", count, mode);
    status = bench_stream_done(stream) ? 0 : 1;
    cpg_finalize(handle);
out:
    bench_stream_abort(stream);
    for (unsigned r = 1; r < count; ++r) {
        /* Receivers stop on their own once done or aborted; a stuck one is killed. */
        for (int i = 0; i < 50 && waitpid(children[r], NULL, WNOHANG) == 0; ++i) usleep(100000);
        if (waitpid(children[r], NULL, WNOHANG) == 0) {
            kill(children[r], SIGKILL);
            waitpid(children[r], NULL, 0);
        }
    }
    free(buf);
    bench_stream_destroy(stream);
    return status;
}
