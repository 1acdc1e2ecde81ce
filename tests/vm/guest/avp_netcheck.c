/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * avp_netcheck: traffic for the AVP kernel driver's guest scenarios and bench.
 *
 *   send ADDR PORT BYTES [PAUSE_US]   TCP: connect, send BYTES of a pattern that
 *                                     depends on each byte's offset, close
 *   recv PORT BYTES [PROGRESS_FILE]   TCP: accept one connection, read to EOF,
 *                                     check every byte against the pattern
 *   flood ADDR PORT SIZE SECONDS      UDP: send SIZE-byte datagrams for SECONDS,
 *                                     ignoring errors (the interface may vanish)
 *   sink PORT SECONDS                 UDP: count datagrams for SECONDS
 *
 * Every mode ends by itself (alarm) and prints one `result ...` line; the
 * exit status is 0 only when the run did what was asked (recv: all bytes,
 * in order, none corrupt).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define DEADLINE_S 120 /* no mode runs longer than this */
#define CONNECT_S 20   /* how long send retries a refused connection */

static double now(void) {
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The pattern: 8 bytes per offset/8 from a mixing function, so a byte that
 * is lost, repeated, moved or changed shows at its offset. */
static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void fill_pattern(uint8_t* buf, uint64_t off, size_t len) {
    size_t i = 0;

    while (i < len) {
        uint64_t word = mix((off + i) >> 3);
        unsigned int b = (off + i) & 7;

        for (; b < 8 && i < len; b++, i++) buf[i] = (uint8_t)(word >> (b * 8));
    }
}

static int parse_addr(const char* ip, const char* port, struct sockaddr_in* sa) {
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(port));
    if (ip == NULL) {
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
        fprintf(stderr, "avp_netcheck: bad address %s\n", ip);
        return -1;
    }
    return 0;
}

static int do_send(const char* ip, const char* port, uint64_t total, unsigned int pause_us) {
    static uint8_t buf[CHUNK];
    struct sockaddr_in sa;
    uint64_t sent = 0;
    double start, give_up;
    int fd = -1;

    if (parse_addr(ip, port, &sa)) return 2;
    give_up = now() + CONNECT_S;
    for (;;) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            perror("avp_netcheck: socket");
            return 2;
        }
        if (connect(fd, (struct sockaddr*)&sa, sizeof(sa)) == 0) break;
        /* The receiver may not be listening yet. */
        if ((errno != ECONNREFUSED && errno != ENETUNREACH && errno != EHOSTUNREACH) || now() > give_up) {
            perror("avp_netcheck: connect");
            return 1;
        }
        close(fd);
        usleep(100000);
    }
    start = now();
    while (sent < total) {
        size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        ssize_t w;

        fill_pattern(buf, sent, n);
        for (size_t done = 0; done < n; done += (size_t)w) {
            w = write(fd, buf + done, n - done);
            if (w < 0) {
                perror("avp_netcheck: write");
                printf("result mode=send sent=%llu\n", (unsigned long long)(sent + done));
                return 1;
            }
        }
        sent += n;
        if (pause_us) usleep(pause_us);
    }
    shutdown(fd, SHUT_WR);
    /* Wait for the receiver's close, so the exit means "all delivered". */
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    printf("result mode=send sent=%llu seconds=%.3f\n", (unsigned long long)sent, now() - start);
    return 0;
}

static int do_recv(const char* port, uint64_t total, const char* progress) {
    static uint8_t buf[CHUNK], want[CHUNK];
    struct sockaddr_in sa;
    uint64_t got = 0, last_progress = 0;
    long long first_bad = -1;
    double start = 0;
    int one = 1, lfd, fd;

    if (parse_addr(NULL, port, &sa)) return 2;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr*)&sa, sizeof(sa)) || listen(lfd, 1)) {
        perror("avp_netcheck: listen");
        return 2;
    }
    printf("listening port=%s\n", port);
    fflush(stdout);
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        perror("avp_netcheck: accept");
        return 2;
    }
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));

        if (r < 0) {
            perror("avp_netcheck: read");
            break;
        }
        if (r == 0) break;
        if (got == 0) start = now();
        fill_pattern(want, got, (size_t)r);
        if (first_bad < 0 && memcmp(buf, want, (size_t)r) != 0) {
            for (ssize_t i = 0; i < r; i++) {
                if (buf[i] != want[i]) {
                    first_bad = (long long)(got + (uint64_t)i);
                    break;
                }
            }
        }
        got += (uint64_t)r;
        if (progress && got - last_progress >= 256 * 1024) {
            FILE* f = fopen(progress, "w");

            if (f) {
                fprintf(f, "%llu\n", (unsigned long long)got);
                fclose(f);
            }
            last_progress = got;
        }
    }
    close(fd);
    close(lfd);
    double secs = got ? now() - start : 0;
    printf("result mode=recv received=%llu expected=%llu first_bad=%lld seconds=%.3f mbit=%.1f\n",
           (unsigned long long)got, (unsigned long long)total, first_bad, secs, secs > 0 ? got * 8 / secs / 1e6 : 0.0);
    return got == total && first_bad < 0 ? 0 : 1;
}

static int do_flood(const char* ip, const char* port, size_t size, double seconds) {
    static uint8_t buf[65507];
    struct sockaddr_in sa;
    uint64_t sent = 0, failed = 0;
    double end;
    int fd;

    if (parse_addr(ip, port, &sa) || size > sizeof(buf)) return 2;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("avp_netcheck: socket");
        return 2;
    }
    fill_pattern(buf, 0, size);
    end = now() + seconds;
    while (now() < end) {
        for (int i = 0; i < 64; i++) {
            if (sendto(fd, buf, size, 0, (struct sockaddr*)&sa, sizeof(sa)) < 0)
                failed++;
            else
                sent++;
        }
        if (failed > sent + 1000) usleep(1000); /* the interface is gone for now: do not spin */
    }
    close(fd);
    printf("result mode=flood sent=%llu failed=%llu seconds=%.3f pps=%.0f\n", (unsigned long long)sent,
           (unsigned long long)failed, seconds, sent / seconds);
    return 0;
}

static int do_sink(const char* port, double seconds) {
    static uint8_t buf[65536];
    struct sockaddr_in sa;
    uint64_t count = 0, bytes = 0;
    double first = 0, last = 0, end;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    int fd, rcvbuf = 4 << 20;

    if (parse_addr(NULL, port, &sa)) return 2;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (fd < 0 || bind(fd, (struct sockaddr*)&sa, sizeof(sa))) {
        perror("avp_netcheck: bind");
        return 2;
    }
    printf("listening port=%s\n", port);
    fflush(stdout);
    end = now() + seconds;
    while (now() < end) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);

        if (r < 0) continue;
        last = now();
        if (count == 0) first = last;
        count++;
        bytes += (uint64_t)r;
    }
    close(fd);
    double span = count > 1 ? last - first : 0;
    printf("result mode=sink received=%llu bytes=%llu seconds=%.3f pps=%.0f\n", (unsigned long long)count,
           (unsigned long long)bytes, span, span > 0 ? (count - 1) / span : 0.0);
    return count ? 0 : 1;
}

static void usage(void) {
    fprintf(stderr,
            "usage: avp_netcheck send ADDR PORT BYTES [PAUSE_US]\n"
            "       avp_netcheck recv PORT BYTES [PROGRESS_FILE]\n"
            "       avp_netcheck flood ADDR PORT SIZE SECONDS\n"
            "       avp_netcheck sink PORT SECONDS\n");
    exit(2);
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    alarm(DEADLINE_S);
    if (argc >= 5 && strcmp(argv[1], "send") == 0)
        return do_send(argv[2], argv[3], strtoull(argv[4], NULL, 0), argc > 5 ? (unsigned int)atoi(argv[5]) : 0);
    if (argc >= 4 && strcmp(argv[1], "recv") == 0)
        return do_recv(argv[2], strtoull(argv[3], NULL, 0), argc > 4 ? argv[4] : NULL);
    if (argc == 6 && strcmp(argv[1], "flood") == 0)
        return do_flood(argv[2], argv[3], (size_t)atoi(argv[4]), atof(argv[5]));
    if (argc == 4 && strcmp(argv[1], "sink") == 0) return do_sink(argv[2], atof(argv[3]));
    usage();
    return 2;
}
