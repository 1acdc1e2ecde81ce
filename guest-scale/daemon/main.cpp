// guest-scaled: the guest's vCPU scaling service. It claims cgcs.scale on
// server-groupd's service socket, answers the host's scale_request by
// bringing CPUs online and taking them offline through sysfs (in a worker
// thread), lets an application or the app scale helper choose the CPU to
// give up, and tells subscribed applications (libguest_scale) what changed.
#include <getopt.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "cpu_choice.h"
#include "cpu_tree.h"
#include "daemon_config.h"
#include "gsdk/child_process.h"
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

void raise_descriptor_limit() {
    rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

int run(int argc, char** argv) {
    DaemonConfig config;
    std::string config_path = "/etc/guest-scale/guest_scale.conf";
    bool config_explicit = false;
    LogLevel level = LogLevel::Info;
    // Command-line values win over the file: applied after it.
    std::vector<std::pair<int, std::string>> overrides;
    static const option options[] = {
        {"config", required_argument, nullptr, 'c'},
        {"sysfs-root", required_argument, nullptr, 'r'},
        {"service-socket", required_argument, nullptr, 'S'},
        {"socket-dir", required_argument, nullptr, 's'},
        {"helper", required_argument, nullptr, 'H'},
        {"state-file", required_argument, nullptr, 'f'},
        {"log-level", required_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "h", options, nullptr)) != -1;) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            config_explicit = true;
            break;
        case 'r':
        case 'S':
        case 's':
        case 'H':
        case 'f':
            overrides.emplace_back(opt, optarg);
            break;
        case 'v':
            if (!log_level_from_string(optarg, &level)) {
                std::fprintf(stderr, "guest-scaled: unknown log level %s\n", optarg);
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
        std::fprintf(stderr, "guest-scaled: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    log_init("guest-scaled", level);
    route_protobuf_logs();
    std::string problems;
    if (!load_config_file(&config, config_path, config_explicit, &problems)) {
        LOG_ERROR("%s", problems.c_str());
        return 1;
    }
    if (!problems.empty()) LOG_WARN("%s", problems.c_str());
    for (const auto& [opt, value] : overrides) {
        switch (opt) {
        case 'r':
            config.sysfs_root = value;
            break;
        case 'S':
            config.service_socket = value;
            break;
        case 's':
            config.socket_dir = value;
            break;
        case 'H':
            config.helper = value;
            break;
        case 'f':
            config.state_file = value;
            break;
        }
    }
    for (const auto& problem : config.access.resolve()) LOG_WARN("%s", problem.c_str());
    raise_descriptor_limit();
    std::signal(SIGPIPE, SIG_IGN);
    std::string step;
    if (int rc = prepare_socket_directory(config.socket_dir, config.access.socket_access(), &step); rc < 0) {
        LOG_ERROR("cannot create the socket directory %s (%s): %s", config.socket_dir.c_str(), step.c_str(),
                  std::strerror(-rc));
        return 1;
    }

    EventLoop loop;
    ChildProcesses children(loop);
    HotplugWorker worker(loop);
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
    ScaleService service(worker, tree, subscribers, choice, config,
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

    std::string stop_cause;
    SignalWatch term(loop, SIGTERM, [&] {
        stop_cause = "SIGTERM";
        loop.stop();
    });
    SignalWatch intr(loop, SIGINT, [&] {
        stop_cause = "SIGINT";
        loop.stop();
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
    LOG_NOTICE("stopping on %s; %llu scale operations served", stop_cause.c_str(),
               static_cast<unsigned long long>(service.served()));
    link_ptr = nullptr;
    link.stop();
    subscribers.shutdown();
    return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
