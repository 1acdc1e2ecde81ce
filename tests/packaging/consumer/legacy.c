/* The legacy API only, linked as legacy makefiles do (-lguest_heartbeat_api
 * -lguest_common_api): register, wait for register_state(true), deregister.
 * The socket comes from GUEST_HEARTBEAT_SOCKET. usage: legacy_c NAME */
#include <stdio.h>
#include <string.h>
#include <sys/select.h>

#include <guest_api_debug.h>
#include <guest_heartbeat_api.h>

static int state = -1;

static void register_state(bool ok) { state = ok ? 1 : 0; }
static void health_check(bool* health, GuestHeartbeatApiActionT* action, char log_msg[]) {
    (void)action;
    (void)log_msg;
    *health = true;
}
static void action_notify(int id, GuestHeartbeatApiEventT event, GuestHeartbeatApiNotifyTypeT type) {
    guest_heartbeat_api_send_action_response(id, event, type, GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT, "");
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME\n", argv[0]);
        return 2;
    }
    guest_api_debug_initialize(argv[1]);
    GuestHeartbeatApiCallbacksT callbacks = {register_state, health_check, action_notify};
    GuestApiErrorT rc = guest_heartbeat_api_initialize(&callbacks);
    if (rc != GUEST_API_OKAY) {
        fprintf(stderr, "initialize: %s\n", guest_api_error_str(rc));
        return 1;
    }
    GuestHeartbeatApiInitDataT init;
    memset(&init, 0, sizeof init);
    snprintf(init.application_name, sizeof init.application_name, "%s", argv[1]);
    init.heartbeat_interval_ms = 1000;
    init.vote_secs = init.shutdown_notice_secs = init.suspend_notice_secs = init.resume_notice_secs = 5;
    init.corrective_action = GUEST_HEARTBEAT_API_ACTION_LOG;
    int sent = 0;
    for (int i = 0; i < 200 && state < 0; ++i) {
        if (!sent) {
            rc = guest_heartbeat_api_register(&init);
            if (rc == GUEST_API_OKAY)
                sent = 1;
            else if (rc != GUEST_API_TRY_AGAIN) {
                fprintf(stderr, "register: %s\n", guest_api_error_str(rc));
                return 1;
            }
        }
        int fd = guest_heartbeat_api_get_selobj();
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(fd, &readable);
        struct timeval tick = {0, 100000};
        if (select(fd + 1, &readable, NULL, NULL, &tick) > 0) guest_heartbeat_api_dispatch(fd);
    }
    if (state != 1) return 1;
    printf("%s registered (legacy API, %s)\n", argv[1], guest_heartbeat_api_action_str(init.corrective_action));
    char bye[] = "consumer done";
    guest_heartbeat_api_deregister(bye);
    guest_heartbeat_api_finalize();
    return 0;
}
