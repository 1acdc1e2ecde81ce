#include "bench_stream.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct bench_stream {
    unsigned receivers;
    unsigned long total;
    unsigned window;
    size_t payload_bytes;
    size_t mapped;
    int wake_fd;  /* eventfd: a receiver made progress while the sender waited */
    int waiting;  /* the sender is (about to be) asleep */
    int aborted;
    unsigned long sent;
    unsigned long out_of_order;
    uint64_t start_ns, end_ns;
    /* Followed by: received[receivers], ready[receivers], latency_us[receivers * total]. */
    unsigned long* received;
    int* ready;
    double* latency_us;
};

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct bench_stream* bench_stream_create(unsigned receivers, unsigned long total, unsigned window,
                                         size_t payload_bytes)
{
    size_t bytes = sizeof(struct bench_stream) + receivers * (sizeof(unsigned long) + sizeof(int)) + 16 +
                   (size_t)receivers * total * sizeof(double);
    struct bench_stream* s = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) return NULL;
    s->mapped = bytes;
    s->receivers = receivers;
    s->total = total;
    s->window = window ? window : 1;
    s->payload_bytes = payload_bytes < 48 ? 48 : payload_bytes;
    s->received = (unsigned long*)(s + 1);
    s->ready = (int*)(s->received + receivers);
    s->latency_us = (double*)(((uintptr_t)(s->ready + receivers) + 15) & ~(uintptr_t)15);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return s->wake_fd < 0 ? NULL : s;
}

void bench_stream_destroy(struct bench_stream* s)
{
    close(s->wake_fd);
    munmap(s, s->mapped);
}

void bench_stream_ready(struct bench_stream* s, unsigned receiver)
{
    __atomic_store_n(&s->ready[receiver], 1, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof one) < 0) { /* the counter is full: the sender is awake anyway */
    }
}

int bench_stream_all_ready(const struct bench_stream* s)
{
    for (unsigned r = 0; r < s->receivers; ++r)
        if (!__atomic_load_n(&s->ready[r], __ATOMIC_ACQUIRE)) return 0;
    return 1;
}

void bench_stream_delivered(struct bench_stream* s, unsigned receiver, const void* payload, size_t len)
{
    char head[48];
    size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
    memcpy(head, payload, n);
    head[n] = 0;
    unsigned long seq;
    unsigned long long stamp;
    if (receiver >= s->receivers || sscanf(head, "%lu %llu", &seq, &stamp) != 2) return;
    uint64_t now = bench_now_ns();
    unsigned long got = s->received[receiver];
    if (got >= s->total) return;
    if (seq != got || len != s->payload_bytes) __atomic_add_fetch(&s->out_of_order, 1, __ATOMIC_RELAXED);
    s->latency_us[(size_t)receiver * s->total + got] = (double)(now - stamp) / 1e3;
    __atomic_store_n(&s->received[receiver], got + 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->waiting, __ATOMIC_SEQ_CST)) {
        uint64_t one = 1;
        if (write(s->wake_fd, &one, sizeof one) < 0) { /* already signalled */
        }
    }
}

unsigned long bench_stream_received(const struct bench_stream* s, unsigned receiver)
{
    return __atomic_load_n(&s->received[receiver], __ATOMIC_ACQUIRE);
}

int bench_stream_aborted(const struct bench_stream* s) { return __atomic_load_n(&s->aborted, __ATOMIC_ACQUIRE); }
void bench_stream_abort(struct bench_stream* s) { __atomic_store_n(&s->aborted, 1, __ATOMIC_RELEASE); }

static unsigned long slowest(const struct bench_stream* s)
{
    unsigned long min = s->sent;
    for (unsigned r = 0; r < s->receivers; ++r) {
        unsigned long got = bench_stream_received(s, r);
        if (got < min) min = got;
    }
    return min;
}

int bench_stream_can_send(const struct bench_stream* s)
{
    return s->sent < s->total && s->sent - slowest(s) < s->window;
}

size_t bench_stream_next(struct bench_stream* s, char* buf)
{
    uint64_t now = bench_now_ns();
    if (s->sent == 0) s->start_ns = now;
    int n = snprintf(buf, s->payload_bytes, "%lu %llu ", s->sent, (unsigned long long)now);
    memset(buf + n, 'x', s->payload_bytes - (size_t)n);
    s->sent++;
    return s->payload_bytes;
}

void bench_stream_unsend(struct bench_stream* s) { s->sent--; }

int bench_stream_done(const struct bench_stream* s)
{
    return s->sent == s->total && slowest(s) == s->total;
}

void bench_stream_wait(struct bench_stream* s, int fd, int timeout_ms)
{
    __atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
    /* Progress made before the flag was seen would not wake us: look once more. */
    if (!bench_stream_can_send(s) && !bench_stream_done(s)) {
        struct pollfd p[2] = {{s->wake_fd, POLLIN, 0}, {fd, POLLIN, 0}};
        poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    }
    __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
    uint64_t count;
    if (read(s->wake_fd, &count, sizeof count) < 0) { /* nothing was signalled */
    }
    if (bench_stream_done(s) && !s->end_ns) s->end_ns = bench_now_ns();
}

static int by_value(const void* a, const void* b)
{
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double percentile(const double* sorted, size_t n, double p)
{
    if (n == 0) return 0;
    return sorted[(size_t)(p * (double)(n - 1) + 0.5)];
}

void bench_stream_report(struct bench_stream* s, FILE* out, const char* system, unsigned members, const char* mode)
{
    /* Gather every receiver's latencies at the front, then sort. */
    size_t n = 0;
    for (unsigned r = 0; r < s->receivers; ++r) {
        unsigned long got = bench_stream_received(s, r);
        memmove(s->latency_us + n, s->latency_us + (size_t)r * s->total, got * sizeof(double));
        n += got;
    }
    qsort(s->latency_us, n, sizeof(double), by_value);
    if (bench_stream_done(s) && !s->end_ns) s->end_ns = bench_now_ns();
    double secs = s->end_ns > s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0;
    fprintf(out,
            "{\"system\":\"%s\",\"members\":%u,\"mode\":\"%s\",\"messages\":%lu,\"payload\":%zu,\"complete\":%s,"
            "\"out_of_order\":%lu,\"seconds\":%.3f,\"rate\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
            system, members, mode, s->sent, s->payload_bytes, bench_stream_done(s) ? "true" : "false",
            s->out_of_order, secs, secs > 0 ? (double)s->total / secs : 0, percentile(s->latency_us, n, 0.50),
            percentile(s->latency_us, n, 0.99));
    fflush(out);
}
