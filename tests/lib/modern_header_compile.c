/* Compile-only proof that guest_heartbeat.h is plain C99. */
#include <stddef.h>

#include "guest_heartbeat.h"

static void on_registered(ghb_client* c, bool ok, const char* reason, void* user) {
    (void)c;
    (void)ok;
    (void)reason;
    (void)user;
}

int modern_header_use(void);
int modern_header_use(void) {
    ghb_client* client = NULL;
    ghb_callbacks cb = {on_registered, NULL, NULL};
    ghb_registration reg = {"app", GHB_MIN_INTERVAL_MS, 1, 2, 3, 4, GHB_ACTION_LOG};
    int rc = ghb_client_new(&client, &cb, NULL, GHB_DEFAULT_SOCKET);
    if (rc == 0) rc = ghb_client_register(client, &reg, GHB_REGISTER_ONCE);
    if (rc == 0) rc = ghb_client_respond(client, 1, GHB_VOTE_COMPLETE, NULL);
    rc |= ghb_client_next_timeout_ms(client) + ghb_client_process(client) + ghb_client_fd(client) +
          ghb_client_is_registered(client) + ghb_client_deregister(client, NULL);
    ghb_client_free(client);
    return rc + (int)ghb_action_str(GHB_ACTION_NONE)[0] + (int)ghb_event_str(GHB_EVENT_RESUME)[0] +
           (int)ghb_notify_type_str(GHB_NOTIFY_REVOCABLE)[0] + (int)ghb_vote_result_str(GHB_VOTE_REJECT)[0];
}
