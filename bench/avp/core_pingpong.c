/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-core latency of this machine right now: two threads pinned to two
 * cores bounce a cache line; prints the one-way latency in ns. The machines
 * here flip between two states (~110 ns and ~510 ns) for tens of seconds at
 * a time, which moves every shared-memory figure; the bench reports it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 200000

static _Alignas(64) volatile uint64_t ball;

static void pin(int cpu) {
    cpu_set_t s;

    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void* partner(void* arg) {
    pin(*(int*)arg);
    for (uint64_t i = 1; i <= ROUNDS; i++) {
        while (__atomic_load_n(&ball, __ATOMIC_ACQUIRE) != 2 * i - 1)
            ;
        __atomic_store_n(&ball, 2 * i, __ATOMIC_RELEASE);
    }
    return NULL;
}

int main(int argc, char** argv) {
    int a = argc > 1 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
    struct timespec t0, t1;
    pthread_t th;
    double ns;

    pin(a);
    pthread_create(&th, NULL, partner, &b);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t i = 1; i <= ROUNDS; i++) {
        __atomic_store_n(&ball, 2 * i - 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&ball, __ATOMIC_ACQUIRE) != 2 * i)
            ;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
    printf("%.0f\n", ns / ROUNDS / 2);
    return 0;
}
