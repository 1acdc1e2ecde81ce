/* sg_modern SOCKET NAME: joins the server group through the installed
 * libservergroup (sg_client_ API) and prints "NAME accepted" once
 * server-groupd accepted it, then what a status query says (with no host:
 * Host is down). Exit 0 once accepted, 1 otherwise. Also built as C++. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <server_group_client.h>

static int accepted;

static void on_connected(sg_client* client, bool connected, const char* reason, void* user) {
    if (!connected) {
        printf("%s: not connected: %s\n", (const char*)user, reason);
        return;
    }
    accepted = 1;
    int rc = sg_client_request_status(client, 0);
    printf("%s accepted; status query: %s\n", (const char*)user, rc < 0 ? strerror(-rc) : "sent");
}

static void on_status(sg_client* client, uint32_t query_id, int error, const sg_status* status, void* user) {
    printf("%s: status answer %u: %s\n", (const char*)user, (unsigned)query_id, error ? status->reason : "ok");
}

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    sg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.connected = on_connected;
    callbacks.status = on_status;
    sg_client* client = NULL;
    int rc = sg_client_new(&client, &callbacks, argv[2], argv[1]);
    if (rc < 0) {
        printf("sg_client_new: %s\n", strerror(-rc));
        return 1;
    }
    for (int i = 0; i < 100 && !accepted; i++) {
        struct pollfd p = {sg_client_fd(client), POLLIN, 0};
        poll(&p, 1, 100);
        sg_client_process(client);
    }
    sg_client_free(client);
    return accepted ? 0 : 1;
}
