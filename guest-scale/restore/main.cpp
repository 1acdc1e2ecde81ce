// guest-scale-restore: a oneshot at boot that takes offline again the vCPUs
// that were offline before the VM stopped, as the host expects. The set comes
// from the metadata service, else a config drive, else guest-scaled's
// last-known state; each source that is absent or malformed is logged and
// the next one tried. Nothing is fatal: the worst case is every CPU online,
// which is how the VM booted.
#include <getopt.h>

#include <cstdio>
#include <set>

#include "cpu_set_text.h"
#include "cpu_tree.h"
#include "daemon_config.h"
#include "gsdk/log.h"
#include "offline_sources.h"
#include "offline_state.h"

using namespace gsdk;
using namespace gsdk::scale;

namespace {

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: guest-scale-restore [options]\n"
                 "  --config FILE        KEY=VALUE settings (default /etc/guest-scale/guest_scale.conf)\n"
                 "  --sysfs-root DIR     the sysfs to act on (default /sys)\n"
                 "  --state-file PATH    the last-known offline set (default /var/lib/guest-scale/offline_cpus)\n"
                 "  --metadata-url URL   offline_cpuset in the metadata service (\"\" = do not ask)\n"
                 "  --config-drive PATH  the config-2 device or a directory of its files (\"\" = none)\n"
                 "  --log-level LEVEL    error, warning, notice, info (default), debug\n");
}

// The first source with a usable answer; the others are logged.
std::optional<SourceAnswer> offline_set(const DaemonConfig& c) {
    for (int i = 0; i < 3; ++i) {
        SourceAnswer a = i == 0   ? offline_from_metadata(c.metadata_url, c.metadata_timeout_ms)
                         : i == 1 ? offline_from_config_drive(c.config_drive)
                                  : offline_from_state_file(c.state_file);
        if (a.offline) return a;
        LOG_NOTICE("no offline set from %s", a.detail.c_str());
    }
    return std::nullopt;
}

int restore(const DaemonConfig& c) {
    auto answer = offline_set(c);
    if (!answer) {
        LOG_NOTICE("no source says which CPUs were offline: every CPU stays online");
        return 0;
    }
    const std::vector<unsigned>& wanted = *answer->offline;
    LOG_NOTICE("offline set %s from %s", scalewire::legacy_set_text(wanted).c_str(), answer->detail.c_str());
    CpuTree tree(c.sysfs_root);
    CpuSnapshot before;
    std::string why;
    if (int rc = tree.scan(&before, &why); rc < 0) {
        LOG_ERROR("cannot read the CPUs: %s; nothing restored", why.c_str());
        return 0;
    }
    for (unsigned cpu : wanted) {
        const CpuState* s = before.find(cpu);
        if (cpu == 0) {
            LOG_WARN("CPU 0 is never taken offline; left online");
        } else if (!s) {
            LOG_WARN("CPU %u is not present in this VM; skipped", cpu);
        } else if (!s->hotpluggable) {
            LOG_WARN("CPU %u cannot be taken offline (no online file); skipped", cpu);
        } else if (!s->online) {
            LOG_INFO("CPU %u is offline already", cpu);
        } else if (tree.set_online(cpu, false, &why) < 0) {
            LOG_WARN("CPU %u stays online: %s", cpu, why.c_str());
        } else {
            LOG_NOTICE("CPU %u taken offline", cpu);
        }
    }
    CpuSnapshot after;
    if (tree.scan(&after, &why) < 0) {
        LOG_WARN("cannot read the CPUs again: %s", why.c_str());
        return 0;
    }
    LOG_NOTICE("CPUs online %s, offline %s", scalewire::cpu_array_text(after.online()).c_str(),
               scalewire::cpu_array_text(after.offline()).c_str());
    // guest-scaled starts from this; a later boot without metadata too.
    if (save_offline_state(c.state_file, after.offline(), &why) < 0)
        LOG_WARN("cannot save the offline set to %s: %s", c.state_file.c_str(), why.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    DaemonConfig config;
    std::string config_path = "/etc/guest-scale/guest_scale.conf";
    bool config_explicit = false;
    LogLevel level = LogLevel::Info;
    std::vector<std::pair<int, std::string>> overrides;
    static const option options[] = {
        {"config", required_argument, nullptr, 'c'},
        {"sysfs-root", required_argument, nullptr, 'r'},
        {"state-file", required_argument, nullptr, 'f'},
        {"metadata-url", required_argument, nullptr, 'm'},
        {"config-drive", required_argument, nullptr, 'd'},
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
        case 'f':
        case 'm':
        case 'd':
            overrides.emplace_back(opt, optarg);
            break;
        case 'v':
            if (!log_level_from_string(optarg, &level)) {
                std::fprintf(stderr, "guest-scale-restore: unknown log level %s\n", optarg);
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
        std::fprintf(stderr, "guest-scale-restore: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    log_init("guest-scale-restore", level);
    std::string problems;
    // Never fatal: an unreadable config leaves the defaults.
    if (!load_config_file(&config, config_path, config_explicit, &problems) || !problems.empty())
        LOG_WARN("%s", problems.c_str());
    for (const auto& [opt, value] : overrides) {
        if (opt == 'r') config.sysfs_root = value;
        if (opt == 'f') config.state_file = value;
        if (opt == 'm') config.metadata_url = value;
        if (opt == 'd') config.config_drive = value;
    }
    return restore(config);
}
