// vmhostd: the reference host's heartbeat supervisor for many VMs.
#include <getopt.h>
#include <sys/stat.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "control_service.h"
#include "event_log.h"
#include "gsdk/child_process.h"
#include "gsdk/event_loop.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/service_notify.h"
#include "host_config.h"
#include "messaging_hub.h"
#include "server_group/group_messages.h"
#include "server_group/server_group_relay.h"
#include "supervised_vm.h"

namespace {

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: vmhostd --config FILE [--log-level error|warning|notice|info|debug] [--foreground]\n"
                 "Supervises the heartbeat of the VMs listed in FILE (JSON) and serves the\n"
                 "control API that vmhostctl uses. See docs/vmhost.md.\n");
}

// The control socket's directory (e.g. /run/vmhostd) may not exist on a fresh boot.
void ensure_parent_directory(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return;
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
        LOG_WARN("cannot create %s: %s", dir.c_str(), std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path;
    gsdk::LogLevel level = gsdk::LogLevel::Info;
    static const option options[] = {
        {"config", required_argument, nullptr, 'c'},
        {"log-level", required_argument, nullptr, 'l'},
        {"foreground", no_argument, nullptr, 'f'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    gsdk::log_init("vmhostd", level);
    gsdk::route_protobuf_logs();
    for (int c; (c = getopt_long(argc, argv, "c:l:fh", options, nullptr)) != -1;) {
        switch (c) {
        case 'c':
            config_path = optarg;
            break;
        case 'l':
            if (!gsdk::log_level_from_string(optarg, &level)) {
                std::fprintf(stderr, "vmhostd: unknown log level \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'f':
            break;  // vmhostd always runs in the foreground (systemd Type=notify)
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "vmhostd: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (config_path.empty()) {
        std::fprintf(stderr, "vmhostd: --config FILE is required\n");
        usage(stderr);
        return 2;
    }
    gsdk::log_set_threshold(level);

    std::string error;
    auto config = vmhost::load_host_config(config_path, &error);
    if (!config) {
        LOG_ERROR("bad configuration: %s", error.c_str());
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);

    gsdk::EventLoop loop;
    gsdk::ChildProcesses children(loop);
    vmhost::EventLog events(config->event_log_size);
    std::vector<std::unique_ptr<vmhost::SupervisedVm>> vms;
    for (auto& vm : config->vms) vms.push_back(std::make_unique<vmhost::SupervisedVm>(loop, children, events, vm));
    // The messaging ports and the server-group relay span the VMs.
    vmhost::MessagingHub messaging(loop, config->vms, config->messaging_limits);
    vmhost::ServerGroupRelay server_groups(events, messaging, vms, config->server_groups);
    messaging.serve(std::string(vmhost::sg::kAddress), &server_groups);
    messaging.set_fallback(&server_groups);
    for (auto& vm : vms) vm->add_observer(&server_groups);
    vmhost::ControlService control(loop, events, vms);
    control.set_server_groups(&server_groups);

    ensure_parent_directory(config->control_socket);
    if (int rc = control.listen(config->control_socket); rc < 0) {
        LOG_ERROR("cannot listen on control socket %s: %s", config->control_socket.c_str(), std::strerror(-rc));
        return 1;
    }
    // The control API can stop and reboot VMs: only root (and the group) may
    // use it. A socket left open to everyone is worse than no daemon.
    if (::chmod(config->control_socket.c_str(), 0660) < 0) {
        LOG_ERROR("cannot restrict control socket %s to mode 0660: %s", config->control_socket.c_str(),
                  std::strerror(errno));
        control.shutdown();
        return 1;
    }

    auto shut_down = [&loop](const char* why) {
        LOG_NOTICE("%s: shutting down", why);
        gsdk::notify_stopping();
        loop.stop();
    };
    gsdk::SignalWatch term(loop, SIGTERM, [&] { shut_down("SIGTERM received"); });
    gsdk::SignalWatch interrupt(loop, SIGINT, [&] { shut_down("SIGINT received"); });

    for (auto& vm : vms) vm->start();
    messaging.start();
    std::string status =
        "supervising " + std::to_string(vms.size()) + " VM(s), control socket " + config->control_socket;
    LOG_NOTICE("%s", status.c_str());
    gsdk::notify_ready(status.c_str());

    int rc = loop.run();
    // Clients waiting on an action get "aborted" before the socket closes.
    for (auto& vm : vms) vm->stop();
    messaging.stop();
    control.shutdown();
    if (rc < 0) {
        LOG_ERROR("event loop failed");
        return 1;
    }
    LOG_NOTICE("stopped");
    return 0;
}
