// server-groupd's core in the fuzzer's process, kept across inputs: the
// relay listening as the host channel, the server-group service (with the
// original library's datagram socket when a private network namespace can
// be had), the local services, one member that reads and one that never
// does, and this harness as the host. Inputs go in through real sockets.
#pragma once

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "group_service.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/unix_socket.h"
#include "local_services.h"
#include "messaging_relay.h"

namespace gsdk::sg::fuzz {

struct DaemonHarness {
    std::string dir;
    DaemonConfig config;
    PeerAccessPolicy access;  // root only
    EventLoop loop;
    UidQuota quota{64, 64};
    std::unique_ptr<MessagingRelay> relay;
    std::unique_ptr<GroupService> group;
    std::unique_ptr<LocalServices> services;
    int host_fd = -1;
    int reading_member = -1;
    int stalled_member = -1;
    int scale_service = -1;
    bool own_network = false;

    DaemonHarness() {
        log_init("fuzz", LogLevel::Error);
        route_protobuf_logs();
        // The abstract names are per network namespace: take one of our own if we may.
        own_network = ::unshare(CLONE_NEWNET) == 0;
        char tmpl[] = "/tmp/gsdk-sgfuzz-XXXXXX";
        dir = mkdtemp(tmpl);
        config.socket_dir = dir;
        config.host_channel = "unix:" + dir + "/messaging.sock";
        config.legacy_datagrams = own_network;
        config.broadcast_rate = 1000000;  // the fuzzer is faster than any rate worth testing
        config.broadcast_burst = 1000000;
        config.status_timeout_ms = 100;
        relay = std::make_unique<MessagingRelay>(loop, *ChannelAddress::parse(config.host_channel), [this](bool up) {
            if (group) group->host_link(up);
            if (services) services->host_link(up);
        });
        group = std::make_unique<GroupService>(loop, config, access, quota, *relay);
        services = std::make_unique<LocalServices>(loop, config, quota, *relay);
        if (group->start() < 0 || services->listen(config.service_socket()) < 0) std::abort();
        relay->start();
        host_fd = unix_stream_connect(dir + "/messaging.sock");
        reading_member = seqpacket_connect(config.client_socket());
        stalled_member = seqpacket_connect(config.client_socket());
        scale_service = seqpacket_connect(config.service_socket());
        if (host_fd < 0 || reading_member < 0 || stalled_member < 0 || scale_service < 0) std::abort();
        // Claim cgcs.scale: field 1 (claim) holding field 1 (address).
        const char claim[] =
            "\x0a\x0c\x0a\x0a"
            "cgcs.scale";
        seqpacket_send(scale_service, claim, sizeof claim - 1);
        settle();
    }

    void settle() {
        for (int i = 0; i < 4; ++i) loop.run_once_nonblocking();
        drain(reading_member);
        drain(scale_service);
        drain(host_fd);  // the host reads what the guest writes, so the port never backs up
    }

    static void drain(int fd) {
        char buf[65536];
        while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {}
    }

    void from_host(const void* data, std::size_t len) {
        ::send(host_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        settle();
    }
};

inline DaemonHarness& harness() {
    static DaemonHarness* h = new DaemonHarness();
    return *h;
}

}  // namespace gsdk::sg::fuzz
