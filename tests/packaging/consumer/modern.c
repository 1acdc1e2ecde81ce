/* Registers with guest-heartbeatd through the ghb_ API, answers challenges
 * until told it is registered, deregisters and prints what happened.
 * usage: modern_c SOCKET NAME */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <guest_api_types.h>
#include <guest_heartbeat.h>

static int registered = -1;

static void on_registered(ghb_client* client, bool ok, const char* reason, void* user) {
    (void)client;
    (void)user;
    registered = ok ? 1 : 0;
    if (!ok) fprintf(stderr, "not registered: %s\n", reason ? reason : "");
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s SOCKET NAME\n", argv[0]);
        return 2;
    }
    ghb_callbacks callbacks = {on_registered, NULL, NULL};
    ghb_client* client;
    int rc = ghb_client_new(&client, &callbacks, NULL, argv[1]);
    if (rc < 0) {
        fprintf(stderr, "ghb_client_new: %s\n", strerror(-rc));
        return 1;
    }
    ghb_registration reg = {argv[2], 1000, 5, 5, 5, 5, GHB_ACTION_LOG};
    rc = ghb_client_register(client, &reg, 0);
    if (rc < 0) {
        fprintf(stderr, "ghb_client_register: %s\n", strerror(-rc));
        return 1;
    }
    for (int i = 0; i < 200 && registered < 0; ++i) {
        struct pollfd p = {ghb_client_fd(client), POLLIN, 0};
        int timeout = ghb_client_next_timeout_ms(client);
        poll(&p, 1, timeout < 0 || timeout > 100 ? 100 : timeout);
        ghb_client_process(client);
    }
    if (registered != 1) return 1;
    printf("%s registered (corrective action %s, %s)\n", argv[2], ghb_action_str(GHB_ACTION_LOG),
           guest_api_error_str(GUEST_API_OKAY));
    rc = ghb_client_deregister(client, "consumer done");
    ghb_client_free(client);
    return rc < 0 ? 1 : 0;
}
