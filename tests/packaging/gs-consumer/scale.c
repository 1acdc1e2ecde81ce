/* gs_scale SOCKET NAME: subscribes to guest-scaled through the installed
 * libguest_scale (gs_client_ API), offering to choose, and prints "NAME
 * accepted; chooser yes|no; online: 0 1 ..." once guest-scaled accepted it
 * (the online CPUs as the daemon read them from its sysfs tree). Exit 0 once
 * accepted, 1 otherwise. Also built as C++. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <guest_scale.h>

static int accepted;

static void on_connected(gs_client* client, bool connected, int error, bool chooser, const unsigned* online,
                         size_t online_count, const char* reason, void* user) {
    (void)client;
    if (!connected) {
        printf("%s: not connected (%s): %s\n", (const char*)user, strerror(-error), reason);
        return;
    }
    accepted = 1;
    printf("%s accepted; chooser %s; online:", (const char*)user, chooser ? "yes" : "no");
    for (size_t i = 0; i < online_count; i++) printf(" %u", online[i]);
    printf("\n");
}

static void on_choose(gs_client* client, uint64_t request_id, const unsigned* online, size_t online_count,
                      unsigned default_cpu, unsigned timeout_ms, void* user) {
    (void)online;
    (void)online_count;
    (void)default_cpu;
    (void)timeout_ms;
    (void)user;
    gs_client_answer_choice(client, request_id, -1);
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    gs_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.connected = on_connected;
    callbacks.choose_cpu = on_choose;
    gs_client* client = NULL;
    int rc = gs_client_new(&client, &callbacks, argv[2], argv[1], true);
    if (rc < 0) {
        printf("gs_client_new: %s\n", strerror(-rc));
        return 1;
    }
    for (int i = 0; i < 100 && !accepted; i++) {
        int timeout = gs_client_next_timeout_ms(client);
        struct pollfd p = {gs_client_fd(client), POLLIN, 0};
        poll(&p, 1, timeout < 0 || timeout > 100 ? 100 : timeout);
        gs_client_process(client);
    }
    gs_client_free(client);
    return accepted ? 0 : 1;
}
