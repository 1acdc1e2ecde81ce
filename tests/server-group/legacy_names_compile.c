/* A legacy VNF's use of server_group.h, written the way the original SDK's
 * users wrote it: it must compile unchanged in strict C99 and link with the
 * legacy link name (-lservergroup); the modern header must compile in C too. */
#define _POSIX_C_SOURCE 200809L /* select() */

#include <stdio.h>
#include <string.h>
#include <sys/select.h>

#include "server_group.h"
#include "server_group_client.h"

static void on_broadcast(char *source_instance, void *msg, unsigned short msglen) {
    printf("%s: %.*s\n", source_instance, (int)msglen, (char *)msg);
}

static void on_notification(void *msg, unsigned short msglen) { printf("%.*s\n", (int)msglen, (char *)msg); }

static void on_status(void *msg, unsigned short msglen) { printf("%.*s\n", (int)msglen, (char *)msg); }

int main(int argc, char **argv) {
    sg_broadcast_msg_handler_t b = on_broadcast;
    sg_notification_msg_handler_t n = on_notification;
    sg_status_msg_handler_t s = on_status;
    char msg[MAX_MSG_DATA_LEN + 1] = "hello";
    int fd = init_sg(b, n, s);
    if (fd < 0) {
        printf("init_sg: %s\n", sg_get_error());
        return 1;
    }
    if (argc > 1 && sg_msg_broadcast(msg, strlen(msg)) < 0) printf("broadcast: %s\n", sg_get_error());
    if (argc > 2 && sg_request_status() < 0) printf("status: %s\n", sg_get_error());
    if (argc > 3) {
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        if (select(fd + 1, &set, NULL, NULL, NULL) > 0 && process_sg_msg() < 0) printf("%s\n", sg_get_error());
    }
    (void)argv;
    (void)sg_payload_check(msg, strlen(msg));
    return 0;
}
