/* sg_legacy NAME: a VNF written for the original library (server_group.h,
 * linked -lservergroup) reaches the packaged server-groupd
 * ($SERVER_GROUP_SOCKET): its broadcast is refused only because no host is
 * connected (EHOSTDOWN). Exit 0 then, 1 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>

#include <server_group.h>

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    int fd = init_sg(NULL, NULL, NULL);
    if (fd < 0) {
        printf("init_sg: %s\n", sg_get_error());
        return 1;
    }
    for (int i = 0; i < 100; i++) {
        char msg[] = "hello";
        if (sg_msg_broadcast(msg, sizeof msg - 1) < 0 && errno == EHOSTDOWN) {
            printf("%s reached server-groupd: %s\n", argv[1], sg_get_error());
            return 0;
        }
        /* Not accepted yet (ENOTCONN): wait for the daemon's answer. */
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        struct timeval tick = {0, 100000};
        if (select(fd + 1, &set, NULL, NULL, &tick) > 0) process_sg_msg();
    }
    printf("%s never reached server-groupd: %s\n", argv[1], sg_get_error());
    return 1;
}
