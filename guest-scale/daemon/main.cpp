// guest-scaled: the guest's vCPU scaling service. It claims cgcs.scale on
// server-groupd's service socket, answers the host's scale_request by
// bringing CPUs online and taking them offline through sysfs (in a worker
// thread), lets an application or the app scale helper choose the CPU to
// give up, and tells subscribed applications (libguest_scale) what changed.

#include <csignal>
#include <cstdio>
#include <cstring>

#include "cpu_choice.h"
#include "cpu_tree.h"
#include "daemon_config.h"
#include "gsdk/child_process.h"
#include "gsdk/daemon_command_line.h"
#include "gsdk/event_loop.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/service_notify.h"
#include "hotplug_worker.h"
#include "relay_link.h"
#include "scale_layer.h"
#include "scale_service.h"
#include "subscribers.h"

using namespace gsdk;
using namespace gsdk::scale;

namespace {

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: guest-scaled [options]\n"
                 "  --config FILE          KEY=VALUE settings (default /etc/guest-scale/guest_scale.conf)\n"
                 "  --sysfs-root DIR       the sysfs to act on (default /sys; a fake tree for tests)\n"
                 "  --service-socket PATH  server-groupd's service socket (default /run/server-group/services.sock)\n"
                 "  --socket-dir DIR       where libguest_scale connects (default /run/guest-scale)\n"
                 "  --helper PATH          the app scale helper (default /usr/sbin/app_scale_helper; \"\" = none)\n"
                 "  --state-file PATH      the last-known offline set (default /var/lib/guest-scale/offline_cpus)\n"
                 "  --log-level LEVEL      error, warning, notice, info (default), debug\n");
}

// SIGHUP (systemctl reload): the file is read again over the defaults, and
// the command line applied over it as at start. A file with any problem is
// refused whole and the running settings stay. What applies from the next
// operation or subscriber: the app scale helper, the state file, the
// subscriber limits. Fixed at start and kept (said so when the file changes
// them): the sysfs root, the sockets and who may connect, which the running
// parts were built with.
template <class ApplyCommandLine>
bool reread_config(const DaemonConfig& running, const DaemonCommandLine& command_line,
                   ApplyCommandLine apply_command_line, DaemonConfig* next) {
    if (!reread_daemon_config(command_line, DaemonConfig{}, apply_config_text, next)) return false;
    apply_command_line(next);
    if (next->sysfs_root != running.sysfs_root || next->socket_dir != running.socket_dir ||
        next->service_socket != running.service_socket || !next->access.same_keys(running.access))
        LOG_NOTICE(
            "reload: the sysfs root, SERVICE_SOCKET, the socket directory and who may connect (SOCKET_GROUP, "
            "ALLOWED_GROUPS, ALLOWED_UIDS) change at restart only; the running values stay");
    next->sysfs_root = running.sysfs_root;
    next->socket_dir = running.socket_dir;
    next->service_socket = running.service_socket;
    next->access = running.access;  // as read and resolved at start
    return true;
}

int run(int argc, char** argv) {
    DaemonCommandLine command_line;
    DaemonCommandLineSpec spec{"guest-scaled",
                               "/etc/guest-scale/guest_scale.conf",
                               {"sysfs-root", "service-socket", "helper", "state-file"},
                               usage};
    spec.host_channel = false;  // the host is reached through server-groupd
    if (auto status = parse_daemon_command_line(argc, argv, spec, &command_line)) return *status;
    log_init("guest-scaled", command_line.level);
    route_protobuf_logs();
    DaemonConfig config;
    std::string text;
    if (!read_daemon_config_file(command_line, &text)) return 1;
    for (const auto& problem : apply_config_text(&config, text, command_line.config_path))
        LOG_WARN("%s", problem.c_str());
    // Command-line values win over the file (also at a reload).
    auto apply_command_line = [&command_line](DaemonConfig* c) {
        auto& extra = command_line.extra;
        if (command_line.socket_dir) c->socket_dir = *command_line.socket_dir;
        if (extra.count("sysfs-root")) c->sysfs_root = extra["sysfs-root"];
        if (extra.count("service-socket")) c->service_socket = extra["service-socket"];
        if (extra.count("helper")) c->helper = extra["helper"];
        if (extra.count("state-file")) c->state_file = extra["state-file"];
    };
    apply_command_line(&config);
    raise_descriptor_limit();  // each subscriber holds a descriptor
    std::signal(SIGPIPE, SIG_IGN);
    if (!config.access.resolve_and_prepare(config.socket_dir)) return 1;

    EventLoop loop;
    ChildProcesses children(loop);
    HotplugWorker worker(loop);
    HotplugWorker state_writer(loop);
    CpuTree tree(config.sysfs_root);
    CpuChoice* choice_ptr = nullptr;
    Subscribers subscribers(loop, config,
                            Subscribers::Callbacks{
                                [&](uint64_t request, int cpu) {
                                    if (choice_ptr) choice_ptr->answered(request, cpu);
                                },
                                [&](uint64_t request) {
                                    if (choice_ptr) choice_ptr->chooser_gone(request);
                                },
                            });
    CpuChoice choice(loop, children, subscribers, config);
    choice_ptr = &choice;
    RelayLink* link_ptr = nullptr;
    ScaleService service(worker, state_writer, tree, subscribers, choice, config,
                         [&](const std::string& dest, const std::string& data) {
                             return link_ptr ? link_ptr->send(dest, data) : -ENOTCONN;
                         });
    RelayLink link(
        loop, config.service_socket, scalewire::kGuestAddress,
        RelayLink::Callbacks{
            [&](const std::string& source, const std::string& data) { service.request(source, data); },
            [&](bool claimed) { notify_status(claimed ? "serving cgcs.scale" : "waiting for server-groupd"); },
        });
    link_ptr = &link;

    StopSignals stop(loop);
    SignalWatch hup(loop, SIGHUP, [&] {
        DaemonConfig next;
        if (!reread_config(config, command_line, apply_command_line, &next)) return;
        config = next;  // every part reads the settings through a reference to it
        LOG_NOTICE("reloaded %s: app scale helper %s, state file %s, subscribers at most %d (%d per user)",
                   command_line.config_path.c_str(), config.helper.empty() ? "none" : config.helper.c_str(),
                   config.state_file.c_str(), config.max_subscribers, config.max_subscribers_per_uid);
    });
    std::string why;
    if (!service.read_initial(&why)) {
        LOG_ERROR("cannot read the CPUs: %s", why.c_str());
        return 1;
    }
    if (int rc = worker.start(); rc < 0) {
        LOG_ERROR("cannot start the hotplug worker: %s", std::strerror(-rc));
        return 1;
    }
    if (int rc = state_writer.start(); rc < 0) {
        LOG_ERROR("cannot start the state writer: %s", std::strerror(-rc));
        return 1;
    }
    if (int rc = subscribers.listen(config.socket_path()); rc < 0) {
        LOG_ERROR("cannot listen for applications on %s: %s", config.socket_path().c_str(), std::strerror(-rc));
        return 1;
    }
    if (int rc = link.start(); rc < 0) {
        LOG_ERROR("cannot set up the link to server-groupd: %s", std::strerror(-rc));
        return 1;
    }
    LOG_NOTICE("started: sysfs %s, server-groupd at %s, applications on %s, app scale helper %s",
               config.sysfs_root.c_str(), config.service_socket.c_str(), config.socket_path().c_str(),
               config.helper.empty() ? "none" : config.helper.c_str());
    notify_ready("waiting for server-groupd");
    loop.run();
    notify_stopping();
    LOG_NOTICE("stopping on %s; %llu scale operations served", stop.cause().c_str(),
               static_cast<unsigned long long>(service.served()));
    link_ptr = nullptr;
    link.stop();
    subscribers.shutdown();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    gsdk::hold_signal(SIGHUP);  // a reload during start-up waits for its watch
    return run(argc, argv);
}
