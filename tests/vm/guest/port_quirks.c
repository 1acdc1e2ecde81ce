/* Runs inside the test guest against a real virtio-serial port and checks the
 * port facts docs/protocols/virtio-serial-ports.md states, which every guest agent's channel code relies
 * on. The host side (tests/vm/hosts/port_quirks.py) connects, writes and hangs
 * up on the port's chardev socket when asked over the test-control port.
 * Every check prints one "CHECK ok|FAIL" line; the exit status is 0 only if
 * all passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Large enough to need several writes (one write moves at most 32 KiB) and
 * to fill QEMU's buffers so EAGAIN shows up. */
#define LARGE_WRITE_BYTES (256 * 1024)
/* Generous: TCG on a busy 2-core host is slow; these are not timing checks. */
#define WAIT_MS 20000

static int failures;
static int control_fd = -1;

static void check(bool ok, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("CHECK %s: ", ok ? "ok" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!ok) failures++;
}

static const char* revents_str(short revents) {
    static char text[64];
    snprintf(text, sizeof text, "%s%s%s%s", revents & POLLIN ? "IN " : "", revents & POLLOUT ? "OUT " : "",
             revents & POLLHUP ? "HUP " : "", revents & POLLERR ? "ERR " : "");
    return text;
}

/* Asks the host driver to perform `step` and waits for its "GO step". */
static bool host_step(const char* step) {
    char line[256];
    size_t len = 0;
    dprintf(control_fd, "STEP %s\n", step);
    for (;;) {
        char c;
        ssize_t n = read(control_fd, &c, 1);
        if (n <= 0) {
            check(false, "control channel closed during step %s", step);
            return false;
        }
        if (c != '\n') {
            if (len < sizeof line - 1) line[len++] = c;
            continue;
        }
        line[len] = '\0';
        len = 0;
        size_t step_len = strlen(step);
        /* "GO step" or "GO step <detail>" */
        if (strncmp(line, "GO ", 3) == 0 && strncmp(line + 3, step, step_len) == 0 &&
            (line[3 + step_len] == '\0' || line[3 + step_len] == ' '))
            return true;
        if (strncmp(line, "FAIL ", 5) == 0) {
            check(false, "host side of step %s: %s", step, line + 5);
            return false;
        }
    }
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Polls for `events` with a back-off (as an agent must while the host is
 * away) until revents has `want` set and `unwanted` clear, or WAIT_MS. */
static short wait_for(int fd, short events, short want, short unwanted) {
    long long deadline = now_ms() + WAIT_MS;
    int pause_ms = 5;
    short last = 0;
    while (now_ms() < deadline) {
        struct pollfd p = {.fd = fd, .events = events};
        if (poll(&p, 1, pause_ms) > 0) {
            last = p.revents;
            if ((last & want) == want && !(last & unwanted)) return last;
            usleep(pause_ms * 1000);
        }
        if (pause_ms < 200) pause_ms *= 2;
    }
    return (short)(last | 0x4000); /* a bit no real revents uses: "timed out" */
}

static void check_disconnected(int fd, const char* when) {
    /* A poll that may wait 2 s must come back at once with POLLIN|POLLHUP,
     * again and again: the reason a POLLIN-only loop spins. */
    bool all_hup = true;
    short seen = 0;
    for (int i = 0; i < 3; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, 2000);
        seen = p.revents;
        if (rc != 1 || p.revents != (POLLIN | POLLHUP)) all_hup = false;
    }
    check(all_hup, "%s: poll(POLLIN) reports exactly POLLIN|POLLHUP every time (last: %s)", when, revents_str(seen));
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    check(n == 0, "%s: read() returns 0 (got %zd, errno %s)", when, n, n < 0 ? strerror(errno) : "-");
    n = write(fd, "x", 1);
    check(n < 0 && errno == EAGAIN, "%s: non-blocking write() fails with EAGAIN (got %zd, %s)", when, n,
          n < 0 ? strerror(errno) : "no error");
}

static bool read_line(int fd, char* buf, size_t size, const char* what) {
    size_t len = 0;
    while (len < size - 1) {
        short r = wait_for(fd, POLLIN, POLLIN, POLLHUP);
        if (!(r & POLLIN) || (r & 0x4000)) {
            check(false, "%s: no data (revents %s)", what, revents_str(r));
            return false;
        }
        ssize_t n = read(fd, buf + len, 1);
        if (n <= 0) {
            check(false, "%s: read() returned %zd", what, n);
            return false;
        }
        if (buf[len] == '\n') {
            buf[len] = '\0';
            return true;
        }
        len++;
    }
    buf[len] = '\0';
    return true;
}

/* Writes all of buf, coping with short writes and EAGAIN. Returns the size
 * the first write() accepted. */
static ssize_t write_all(int fd, const unsigned char* buf, size_t size, size_t* largest) {
    size_t done = 0;
    ssize_t first = -2;
    *largest = 0;
    while (done < size) {
        ssize_t n = write(fd, buf + done, size - done);
        if (first == -2) first = n;
        if (n > 0) {
            done += (size_t)n;
            if ((size_t)n > *largest) *largest = (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            check(false, "large write: write() failed after %zu bytes: %s", done, strerror(errno));
            return -1;
        }
        short r = wait_for(fd, POLLOUT, POLLOUT, POLLHUP);
        if (r & 0x4000) {
            check(false, "large write: port never writable again after %zu bytes", done);
            return -1;
        }
    }
    return first;
}

int main(int argc, char** argv) {
    const char* port = "/dev/virtio-ports/cgcs.heartbeat";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = argv[i + 1];
        else if (strcmp(argv[i], "--control-fd") == 0)
            control_fd = atoi(argv[i + 1]);
    }
    if (control_fd < 0) {
        fprintf(stderr, "usage: %s --port PATH --control-fd FD\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* 1. The host has not connected yet. */
    if (!host_step("ensure-disconnected")) return 1;
    int fd = open(port, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    check(fd >= 0, "open(%s) succeeds (%s)", port, fd < 0 ? strerror(errno) : "ok");
    if (fd < 0) return 1;
    int second = open(port, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    check(second < 0 && errno == EBUSY, "a second open() fails with EBUSY (got %d, %s)", second,
          second < 0 ? strerror(errno) : "opened");
    if (second >= 0) close(second);
    check_disconnected(fd, "host never connected");

    /* 2. The host connects: POLLOUT comes, data flows both ways. */
    if (!host_step("connect")) return 1;
    short r = wait_for(fd, POLLOUT, POLLOUT, POLLHUP);
    check(!(r & 0x4000), "after the host connects, POLLOUT without POLLHUP (revents %s)", revents_str(r));
    const char hello[] = "guest-hello\n";
    ssize_t n = write(fd, hello, sizeof hello - 1);
    check(n == (ssize_t)(sizeof hello - 1), "write() of a short line succeeds (%zd)", n);
    if (!host_step("expect-guest-hello")) return 1;
    if (!host_step("send-host-hello")) return 1;
    char line[128];
    if (read_line(fd, line, sizeof line, "host line"))
        check(strcmp(line, "host-hello") == 0, "the host's line arrives (\"%s\")", line);

    /* 3. A large write: short writes, intact on the host after several reads. */
    unsigned char* big = malloc(LARGE_WRITE_BYTES);
    if (!big) return 1;
    for (size_t i = 0; i < LARGE_WRITE_BYTES; i++) big[i] = (unsigned char)((i * 7 + i / 251) & 0xff);
    if (!host_step("read-large")) return 1;
    size_t largest = 0;
    ssize_t first = write_all(fd, big, LARGE_WRITE_BYTES, &largest);
    free(big);
    printf("large write: first write() took %zd bytes, the largest %zu\n", first, largest);
    check(first > 0 && first < LARGE_WRITE_BYTES, "one write() of %d bytes is short (took %zd)", LARGE_WRITE_BYTES,
          first);
    check(largest <= 32 * 1024, "no write() moves more than 32 KiB (largest %zu)", largest);
    if (!host_step("verify-large")) return 1;

    /* 4. The host hangs up: POLLHUP at once, read() 0, write EAGAIN. */
    if (!host_step("disconnect")) return 1;
    r = wait_for(fd, POLLIN, POLLHUP, 0);
    check(!(r & 0x4000), "after the host hangs up, POLLHUP (revents %s)", revents_str(r));
    check_disconnected(fd, "host hung up");

    /* 5. The host reconnects and writes while the guest has the port closed:
     * held and delivered when the guest opens it again. */
    close(fd);
    if (!host_step("connect-and-write-early")) return 1;
    fd = open(port, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    check(fd >= 0, "reopen after close succeeds (%s)", fd < 0 ? strerror(errno) : "ok");
    if (fd < 0) return 1;
    if (read_line(fd, line, sizeof line, "early line"))
        check(strcmp(line, "early-bird") == 0, "data written before open() is delivered (\"%s\")", line);
    close(fd);

    host_step("done");
    printf("port-quirks: %d failed check(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
