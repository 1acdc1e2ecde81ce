/*
 * One measured stream of broadcasts, the same for every system under test
 * (the relay and the CPG anchor): one sender process and one process per
 * receiver, sharing this record (anonymous shared memory, made before
 * fork). The sender keeps at most `window` broadcasts in flight (sent, not
 * yet delivered to every receiver); each payload carries its sequence
 * number and send time as text (the payload rule allows only UTF-8 without
 * NUL); every delivery is checked and timed against CLOCK_MONOTONIC, which
 * all processes share, so the latency is one-way.
 */
#ifndef BENCH_STREAM_H
#define BENCH_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_stream;

uint64_t bench_now_ns(void);
/* NULL on failure. Call before forking the receivers. */
struct bench_stream* bench_stream_create(unsigned receivers, unsigned long total, unsigned window,
                                         size_t payload_bytes);
void bench_stream_destroy(struct bench_stream* s);

/* Receivers: say ready once joined; record each delivery. */
void bench_stream_ready(struct bench_stream* s, unsigned receiver);
void bench_stream_delivered(struct bench_stream* s, unsigned receiver, const void* payload, size_t len);
unsigned long bench_stream_received(const struct bench_stream* s, unsigned receiver);
/* Set by the sender when it gives up: receivers stop. */
int bench_stream_aborted(const struct bench_stream* s);
void bench_stream_abort(struct bench_stream* s);

/* Sender. */
int bench_stream_all_ready(const struct bench_stream* s);
int bench_stream_can_send(const struct bench_stream* s);
/* Writes the next payload (payload_bytes long, no NUL) into buf and counts it sent. */
size_t bench_stream_next(struct bench_stream* s, char* buf);
/* A payload handed back (the system's queue was full). */
void bench_stream_unsend(struct bench_stream* s);
int bench_stream_done(const struct bench_stream* s);
/* Waits up to timeout_ms until a receiver makes progress or `fd` (if >= 0) is readable. */
void bench_stream_wait(struct bench_stream* s, int fd, int timeout_ms);
/* One JSON line: system, members, mode, messages, seconds, rate, p50_us, p99_us. */
void bench_stream_report(struct bench_stream* s, FILE* out, const char* system, unsigned members, const char* mode);

#ifdef __cplusplus
}
#endif

#endif
