// server-groupd: owns the cgcs.messaging port and relays envelope v2
// messages by address: cgcs.server_grp to the processes using
// libserver_group (and to binaries bundling the original library), other
// reserved addresses (cgcs.scale) to the local service that claimed them.
#include <getopt.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "daemon_config.h"
#include "group_service.h"
#include "gsdk/event_loop.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/service_notify.h"
#include "local_services.h"
#include "messaging_relay.h"
#include "uid_quota.h"

using namespace gsdk;
using namespace gsdk::sg;

namespace {

void usage(FILE* out) {
    std::fprintf(
        out,
        "usage: server-groupd [options]\n"
        "  --device PATH         virtio-serial port (default /dev/virtio-ports/cgcs.messaging)\n"
        "  --listen unix:PATH    listen on a UNIX socket instead, as QEMU's chardev would\n"
        "  --config FILE         KEY=VALUE settings (default /etc/server-group/server_group.conf)\n"
        "  --socket-dir DIR      where libserver_group and local services connect (default /run/server-group)\n"
        "  --log-level LEVEL     error, warning, notice, info (default), debug\n");
}

// Every client holds a descriptor: take the hard limit, and keep the client
// limit below it so that accept never meets EMFILE.
void fit_descriptor_limit(DaemonConfig* config) {
    rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    constexpr rlim_t kReserve = 64;  // listening sockets, the port, logs, procfs reads
    if (lim.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(config->max_clients) + kReserve > lim.rlim_cur) {
        int fitted = lim.rlim_cur > kReserve ? static_cast<int>(lim.rlim_cur - kReserve) : 1;
        LOG_WARN("MAX_CLIENTS=%d does not fit the descriptor limit %llu; using %d", config->max_clients,
                 static_cast<unsigned long long>(lim.rlim_cur), fitted);
        config->max_clients = fitted;
    }
}

}  // namespace

int main(int argc, char** argv) {
    DaemonConfig config;
    std::string config_path = "/etc/server-group/server_group.conf";
    bool config_explicit = false;
    LogLevel level = LogLevel::Info;
    static const option options[] = {
        {"device", required_argument, nullptr, 'd'},
        {"listen", required_argument, nullptr, 'l'},
        {"config", required_argument, nullptr, 'c'},
        {"socket-dir", required_argument, nullptr, 's'},
        {"log-level", required_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "h", options, nullptr)) != -1;) {
        switch (opt) {
        case 'd':
            config.host_channel = optarg;
            break;
        case 'l':
            if (std::strncmp(optarg, "unix:", 5) != 0) {
                std::fprintf(stderr, "server-groupd: --listen needs unix:PATH, got %s\n", optarg);
                return 2;
            }
            config.host_channel = optarg;
            break;
        case 'c':
            config_path = optarg;
            config_explicit = true;
            break;
        case 's':
            config.socket_dir = optarg;
            break;
        case 'v':
            if (!log_level_from_string(optarg, &level)) {
                std::fprintf(stderr, "server-groupd: unknown log level %s\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "server-groupd: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    log_init("server-groupd", level);
    route_protobuf_logs();

    std::ifstream in(config_path);
    if (in) {
        std::stringstream text;
        text << in.rdbuf();
        for (const auto& problem : apply_config_text(&config, text.str(), config_path)) LOG_WARN("%s", problem.c_str());
    } else if (config_explicit) {
        LOG_ERROR("cannot read config file %s: %s", config_path.c_str(), std::strerror(errno));
        return 1;
    }
    auto channel = ChannelAddress::parse(config.host_channel);
    if (!channel) {
        LOG_ERROR("bad host channel %s", config.host_channel.c_str());
        return 2;
    }
    for (const auto& problem : config.access.resolve()) LOG_WARN("%s", problem.c_str());
    PeerAccessPolicy access = config.access.policy();
    fit_descriptor_limit(&config);
    std::signal(SIGPIPE, SIG_IGN);
    std::string step;
    if (int rc = prepare_socket_directory(config.socket_dir, config.access.socket_access(), &step); rc < 0) {
        LOG_ERROR("cannot prepare the socket directory: %s: %s", step.c_str(), std::strerror(-rc));
        return 1;
    }

    EventLoop loop;
    UidQuota quota(static_cast<std::size_t>(config.max_clients), static_cast<std::size_t>(config.max_clients_per_uid));
    GroupService* group = nullptr;
    LocalServices* services = nullptr;
    MessagingRelay relay(loop, *channel, [&](bool connected) {
        if (group) group->host_link(connected);
        if (services) services->host_link(connected);
        notify_status(connected ? "host connected" : "waiting for the host");
    });
    GroupService group_service(loop, config, access, quota, relay);
    LocalServices local_services(loop, config, quota, relay);
    group = &group_service;
    services = &local_services;

    if (int rc = group_service.start(); rc < 0) {
        LOG_ERROR("cannot listen for libserver_group on %s: %s", config.client_socket().c_str(), std::strerror(-rc));
        return 1;
    }
    if (int rc = local_services.listen(config.service_socket()); rc < 0) {
        LOG_ERROR("cannot listen for local services on %s: %s", config.service_socket().c_str(), std::strerror(-rc));
        return 1;
    }
    relay.start();

    std::string why;
    SignalWatch term(loop, SIGTERM, [&] {
        why = "SIGTERM";
        loop.stop();
    });
    SignalWatch intr(loop, SIGINT, [&] {
        why = "SIGINT";
        loop.stop();
    });
    std::string services_list;
    for (const auto& r : config.local_services) services_list += (services_list.empty() ? "" : ",") + r.address;
    LOG_NOTICE("started: host channel %s, clients on %s, local services (%s) on %s, original library %s; access: %s",
               channel->describe().c_str(), config.client_socket().c_str(),
               services_list.empty() ? "none" : services_list.c_str(), config.service_socket().c_str(),
               config.legacy_datagrams ? "served" : "not served", config.access.describe().c_str());
    notify_ready("waiting for the host");
    loop.run();

    notify_stopping();
    LOG_NOTICE("stopping on %s", why.c_str());
    group = nullptr;
    services = nullptr;
    relay.stop();
    local_services.shutdown();
    group_service.stop();
    return 0;
}
