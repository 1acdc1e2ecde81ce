/* In a fresh process, the legacy debug API behaves as the original's did:
 * level INFO, lines to syslog (not stderr); GUEST_API_DEBUG_LOG=stderr and
 * GUEST_API_DEBUG_LOG_LEVEL change that without a rebuild.
 *   legacy_debug_defaults EXPECTED_LEVEL EXPECT_STDERR(0|1)
 * Exit 0 when the process saw what was expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_api_debug.h"
#include "guest_heartbeat_api.h"

int main(int argc, char** argv) {
    int fds[2];
    if (argc != 3 || pipe(fds) != 0) return 2;
    int expected_level = atoi(argv[1]);
    int expect_stderr = atoi(argv[2]);
    char name[] = "defaults";
    guest_api_debug_initialize(name);
    for (int l = GUEST_API_DEBUG_LOG_LEVEL_ERROR; l <= GUEST_API_DEBUG_LOG_LEVEL_VERBOSE; ++l) {
        if (guest_api_debug_want_log((GuestApiDebugLogLevelT)l) != (l <= expected_level)) {
            printf("level %d: want_log is %d\n", l, !(l <= expected_level));
            return 1;
        }
    }
    int saved = dup(2);
    dup2(fds[1], 2);
    DPRINTF(GUEST_API_DEBUG_LOG_LEVEL_ERROR, "marker %d", 42);
    dup2(saved, 2);
    close(fds[1]);
    char buf[512] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    int on_stderr = n > 0 && strstr(buf, "marker 42") != NULL;
    if (on_stderr != expect_stderr) {
        printf("line on stderr: %d, expected %d (%s)\n", on_stderr, expect_stderr, buf);
        return 1;
    }
    guest_api_debug_finalize();
    return 0;
}
