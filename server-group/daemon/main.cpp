// server-groupd: owns the cgcs.messaging port and relays envelope v2
// messages by address: cgcs.server_grp to the processes using
// libserver_group (and to binaries bundling the original library), other
// reserved addresses (cgcs.scale) to the local service that claimed them.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "daemon_config.h"
#include "group_service.h"
#include "gsdk/daemon_command_line.h"
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
    rlim_t limit = raise_descriptor_limit();
    constexpr rlim_t kReserve = 64;  // listening sockets, the port, logs, procfs reads
    if (limit != RLIM_INFINITY && static_cast<rlim_t>(config->max_clients) + kReserve > limit) {
        int fitted = limit > kReserve ? static_cast<int>(limit - kReserve) : 1;
        LOG_WARN("MAX_CLIENTS=%d does not fit the descriptor limit %llu; using %d", config->max_clients,
                 static_cast<unsigned long long>(limit), fitted);
        config->max_clients = fitted;
    }
}

// SIGHUP (systemctl reload): the file is read again over the settings the
// daemon started from (defaults and command line). A file with any problem is
// refused whole, so that a typo cannot half-apply; the running settings stay.
// What applies: the local services' addresses (to claims made after) and the
// broadcast rate (to senders that connect after). Fixed at start and kept:
// who may connect (the sockets' group and mode, the access policy), the
// connection quotas (the quota is sized with them), the status timeout (the
// status round is built with it) and serving the original library (its
// sockets are bound or not); a file that changes one of those is told so.
// configured_max_clients: MAX_CLIENTS as read at start (running holds it as
// fitted to the descriptor limit).
bool reread_config(const DaemonConfig& started_from, const DaemonConfig& running, int configured_max_clients,
                   const DaemonCommandLine& command_line, DaemonConfig* next) {
    if (!reread_daemon_config(command_line, started_from, apply_config_text, next)) return false;
    if (!next->access.same_keys(running.access) || next->max_clients != configured_max_clients ||
        next->max_clients_per_uid != running.max_clients_per_uid ||
        next->status_timeout_ms != running.status_timeout_ms || next->legacy_datagrams != running.legacy_datagrams)
        LOG_NOTICE(
            "reload: who may connect (SOCKET_GROUP, ALLOWED_GROUPS, ALLOWED_UIDS), MAX_CLIENTS, "
            "MAX_CLIENTS_PER_UID, STATUS_TIMEOUT_MS and LEGACY_DATAGRAMS change at restart only; the running "
            "values stay");
    next->access = running.access;            // as read and resolved at start
    next->max_clients = running.max_clients;  // as fitted to the descriptor limit
    next->max_clients_per_uid = running.max_clients_per_uid;
    next->status_timeout_ms = running.status_timeout_ms;
    next->legacy_datagrams = running.legacy_datagrams;
    return true;
}

std::string service_addresses(const DaemonConfig& config) {
    std::string out;
    for (const auto& r : config.local_services) out += (out.empty() ? "" : ",") + r.address;
    return out.empty() ? "none" : out;
}

}  // namespace

int main(int argc, char** argv) {
    gsdk::hold_signal(SIGHUP);  // a reload during start-up waits for its watch
    DaemonCommandLine command_line;
    if (auto status = parse_daemon_command_line(
            argc, argv, {"server-groupd", "/etc/server-group/server_group.conf", {}, usage}, &command_line))
        return *status;
    DaemonConfig config;
    if (command_line.host_channel) config.host_channel = *command_line.host_channel;
    if (command_line.socket_dir) config.socket_dir = *command_line.socket_dir;
    log_init("server-groupd", command_line.level);
    route_protobuf_logs();

    std::string text;
    if (!read_daemon_config_file(command_line, &text)) return 1;
    // What a reload starts from: the defaults and the command line.
    const DaemonConfig started_from = config;
    for (const auto& problem : apply_config_text(&config, text, command_line.config_path))
        LOG_WARN("%s", problem.c_str());
    auto channel = ChannelAddress::parse(config.host_channel);
    if (!channel) {
        LOG_ERROR("bad host channel %s", config.host_channel.c_str());
        return 2;
    }
    if (!config.access.resolve_and_prepare(config.socket_dir)) return 1;
    PeerAccessPolicy access = config.access.policy();
    const int configured_max_clients = config.max_clients;
    fit_descriptor_limit(&config);
    std::signal(SIGPIPE, SIG_IGN);

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

    StopSignals stop(loop);
    SignalWatch hup(loop, SIGHUP, [&] {
        DaemonConfig next;
        if (!reread_config(started_from, config, configured_max_clients, command_line, &next)) return;
        config = next;  // every part reads the settings through a reference to it
        LOG_NOTICE(
            "reloaded %s: local services (%s), broadcast rate %d/s burst %d (for claims and senders from now on)",
            command_line.config_path.c_str(), service_addresses(config).c_str(), config.broadcast_rate,
            config.broadcast_burst);
    });
    LOG_NOTICE("started: host channel %s, clients on %s, local services (%s) on %s, original library %s; access: %s",
               channel->describe().c_str(), config.client_socket().c_str(), service_addresses(config).c_str(),
               config.service_socket().c_str(), config.legacy_datagrams ? "served" : "not served",
               config.access.describe().c_str());
    notify_ready("waiting for the host");
    loop.run();

    notify_stopping();
    LOG_NOTICE("stopping on %s", stop.cause().c_str());
    group = nullptr;
    services = nullptr;
    relay.stop();
    local_services.shutdown();
    group_service.stop();
    return 0;
}
