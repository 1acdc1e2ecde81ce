// guest-heartbeatd: answers the host's heartbeat challenges with the merged
// health of the applications registered through libguest_heartbeat, and runs
// the host's action votes and notifications past them.
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "application_registry.h"
#include "daemon_config.h"
#include "gsdk/child_process.h"
#include "gsdk/daemon_command_line.h"
#include "gsdk/event_loop.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/service_notify.h"
#include "health_script.h"
#include "host_session.h"
#include "legacy_socket_server.h"

using namespace gsdk;
using namespace gsdk::heartbeat;

namespace {

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: guest-heartbeatd [options]\n"
                 "  --device PATH         virtio-serial port (default /dev/virtio-ports/cgcs.heartbeat)\n"
                 "  --listen unix:PATH    listen on a UNIX socket instead, as QEMU's chardev would\n"
                 "  --config FILE         KEY=VALUE settings (default /etc/guest-heartbeat/guest_heartbeat.conf)\n"
                 "  --socket-dir DIR      where applications connect (default /run/guest-heartbeat)\n"
                 "  --legacy-socket PATH  where binaries bundling the original libguest_heartbeat_api.so.3\n"
                 "                        connect (default /var/run/.guest_heartbeat_api; none: not served)\n"
                 "  --name NAME           guest name sent to the host (default: the hostname)\n"
                 "  --log-level LEVEL     error, warning, notice, info (default), debug\n");
}

// Settings the guest announces to the host in init: a reload that changes one
// of them initialises again so the host hears of it.
bool announced_settings_differ(const DaemonConfig& a, const DaemonConfig& b) {
    return a.heartbeat_interval_ms != b.heartbeat_interval_ms || a.corrective_action != b.corrective_action ||
           a.vote_secs != b.vote_secs || a.shutdown_notice_secs != b.shutdown_notice_secs ||
           a.suspend_notice_secs != b.suspend_notice_secs || a.resume_notice_secs != b.resume_notice_secs ||
           a.restart_secs != b.restart_secs;
}

// SIGHUP (systemctl reload): the file is read again over the settings the
// daemon started from (defaults and command line). A file with any problem is
// refused whole, so that a typo cannot half-apply; the running settings stay.
// Some settings are fixed at start and kept: the guest name (the host knows
// the guest by it), the repeat window and failure retention (their holders
// are built with them), and who may register (the socket's group and mode,
// the access policy); a file that changes one of those is told so.
bool reread_config(const DaemonConfig& started_from, const DaemonConfig& running, const DaemonCommandLine& command_line,
                   DaemonConfig* next) {
    if (!reread_daemon_config(command_line, started_from, apply_config_text, next)) return false;
    if (next->suppress_repeat_secs != running.suppress_repeat_secs ||
        next->failure_retention_secs != running.failure_retention_secs || !next->access.same_keys(running.access))
        LOG_NOTICE(
            "reload: SUPPRESS_REPEAT_SECS, FAILURE_RETENTION_SECS and who may register (SOCKET_GROUP, "
            "ALLOWED_GROUPS, ALLOWED_UIDS) change at restart only; the running values stay");
    next->guest_name = running.guest_name;
    next->suppress_repeat_secs = running.suppress_repeat_secs;
    next->failure_retention_secs = running.failure_retention_secs;
    next->access = running.access;  // as read and resolved at start
    return true;
}

int run(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
    gsdk::hold_signal(SIGHUP);  // a reload during start-up waits for its watch
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        LOG_ERROR("stopping: %s", e.what());
        return 1;
    }
}

namespace {

int run(int argc, char** argv) {
    DaemonCommandLine command_line;
    if (auto status = parse_daemon_command_line(
            argc, argv,
            {"guest-heartbeatd", "/etc/guest-heartbeat/guest_heartbeat.conf", {"name", "legacy-socket"}, usage},
            &command_line))
        return *status;
    DaemonConfig config;
    if (command_line.host_channel) config.host_channel = *command_line.host_channel;
    if (command_line.socket_dir) config.socket_dir = *command_line.socket_dir;
    if (command_line.extra.count("name")) config.guest_name = command_line.extra["name"];
    log_init("guest-heartbeatd", command_line.level);
    const DaemonConfig started_from = config;
    route_protobuf_logs();

    std::string text;
    if (!read_daemon_config_file(command_line, &text)) return 1;
    for (const auto& problem : apply_config_text(&config, text, command_line.config_path))
        LOG_WARN("%s", problem.c_str());
    // The command line wins over the file.
    if (command_line.extra.count("legacy-socket")) config.legacy_socket_path = command_line.extra["legacy-socket"];
    if (config.guest_name.empty()) {
        char host[256] = "guest";
        gethostname(host, sizeof host - 1);
        config.guest_name = host;
    }
    if (!ChannelAddress::parse(config.host_channel)) {
        LOG_ERROR("bad host channel %s", config.host_channel.c_str());
        return 2;
    }
    // 1024+ applications each hold a socket.
    if (rlim_t limit = raise_descriptor_limit(); limit < 1100)
        LOG_NOTICE("descriptor limit is %llu: fewer than 1024 applications can connect",
                   static_cast<unsigned long long>(limit));
    std::signal(SIGPIPE, SIG_IGN);
    if (!config.access.resolve_and_prepare(config.socket_dir)) return 1;

    EventLoop loop;
    ChildProcesses children(loop);
    HostSession* session = nullptr;
    ApplicationRegistry apps(loop, config,
                             ApplicationRegistry::Callbacks{
                                 [&] {
                                     if (session) session->health_changed();
                                 },
                                 [&](const std::string& app, const ipc::ActionResponse& r) {
                                     if (session) session->application_answered(app, r);
                                 },
                                 [&](const std::string& app) {
                                     if (session) session->application_departed(app);
                                 },
                             });
    HealthScript script(loop, children, config, [&] {
        if (session) session->health_changed();
    });
    HostSession host(loop, config, apps, script, children);
    session = &host;

    if (int rc = apps.listen(config.socket_path()); rc < 0) {
        LOG_ERROR("cannot listen for applications on %s: %s", config.socket_path().c_str(), std::strerror(-rc));
        return 1;
    }
    LegacySocketServer legacy(loop, config, apps);
    if (config.legacy_socket_path != "none") {
        if (int rc = legacy.listen(config.legacy_socket_path); rc < 0) {
            LOG_ERROR("cannot listen for legacy applications on %s: %s", config.legacy_socket_path.c_str(),
                      std::strerror(-rc));
            return 1;
        }
    }
    host.start();
    script.start();

    StopSignals stop(loop);
    SignalWatch hup(loop, SIGHUP, [&] {
        DaemonConfig next;
        if (!reread_config(started_from, config, command_line, &next)) return;
        bool announce = announced_settings_differ(config, next);
        bool restart_script = next.health_check_script != config.health_check_script ||
                              next.health_check_interval_secs != config.health_check_interval_secs;
        config = next;  // every part reads the settings through a reference to it
        if (restart_script) script.start();
        if (announce) host.announce_again();
        LOG_NOTICE("reloaded %s: interval %d ms, corrective action %s%s", command_line.config_path.c_str(),
                   config.heartbeat_interval_ms, hbwire::to_string(config.corrective_action),
                   announce ? "; announcing the new settings to the host" : "");
    });
    LOG_NOTICE("started: guest %s, host channel %s, applications on %s, interval %d ms, corrective action %s",
               config.guest_name.c_str(), config.host_channel.c_str(), config.socket_path().c_str(),
               config.heartbeat_interval_ms, hbwire::to_string(config.corrective_action));
    if (config.legacy_socket_path != "none")
        LOG_NOTICE("binaries bundling the original library connect on %s", config.legacy_socket_path.c_str());
    LOG_NOTICE("applications may register as %s", config.access.describe().c_str());
    notify_ready("waiting for the host");
    loop.run();

    notify_stopping();
    LOG_NOTICE("stopping on %s", stop.cause().c_str());
    host.stop("guest-heartbeatd stopping (" + stop.cause() + ")");
    legacy.shutdown();
    apps.shutdown();
    return 0;
}

}  // namespace
