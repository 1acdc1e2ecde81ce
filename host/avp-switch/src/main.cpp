// avp-switch: the host end of AVP devices.
//   avp-switch run [--config FILE] [--port SPEC]... [--tap SPEC]... [--pair A,B]... [--loopback A]
//                  [--socket PATH] [--busy-poll] [--migrate-timeout MS] [--bench SECONDS]
//                  [--log-level LEVEL]
//   avp-switch ctl [--socket PATH] COMMAND [ARGS...]
#include <getopt.h>
#include <gsdk/log.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "avp_switch.hpp"
#include "control_socket.hpp"

using namespace avpsw;

namespace {

const char* kUsage =
    "usage:\n"
    "  avp-switch run [--config FILE] [--port NAME,profile=file|ivshmem|legacy,path=P[,k=v...]]...\n"
    "                 [--tap NAME[,ifname=IF][,mtu=N]]... [--pair A,B]... [--loopback A]\n"
    "                 [--socket PATH] [--busy-poll]\n"
    "                 [--migrate-timeout MS] [--bench SECONDS] [--log-level LEVEL]\n"
    "                 [--hugetlbfs DIR]\n"
    "  avp-switch ctl [--socket PATH] ports|stats [PORT]|status|migrate PORT detach|attach [MS]|\n"
    "                 fault PORT MODE [COUNT]|bench|shutdown|help\n"
    "port options: mac=, buffers=, mbuf_size=, fifo_len=, queues=, slot=, uio=, replace=0|1,\n"
    "              doorbell=SOCKET (ivshmem: serve QEMU's ivshmem-doorbell), hugepages=auto|on|off\n";

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "avp-switch: %s\n%s", msg.c_str(), kUsage);
    return 2;
}

bool parse_uint(const char* s, uint32_t lo, uint32_t hi, uint32_t& out) {
    char* end = nullptr;
    unsigned long v = std::strtoul(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return false;
    out = static_cast<uint32_t>(v);
    return true;
}

// `run` options; parsed in order, so --config and --port add up as given.
enum RunOption {
    kConfig = 1,
    kPort,
    kTap,
    kPair,
    kLoopback,
    kSocket,
    kBusyPoll,
    kMigrateTimeout,
    kBench,
    kLogLevel,
    kHugetlbfs
};

int cmd_run(int argc, char** argv) {
    static const option options[] = {
        {"config", required_argument, nullptr, kConfig},
        {"port", required_argument, nullptr, kPort},
        {"tap", required_argument, nullptr, kTap},
        {"pair", required_argument, nullptr, kPair},
        {"loopback", required_argument, nullptr, kLoopback},
        {"socket", required_argument, nullptr, kSocket},
        {"busy-poll", no_argument, nullptr, kBusyPoll},
        {"migrate-timeout", required_argument, nullptr, kMigrateTimeout},
        {"bench", required_argument, nullptr, kBench},
        {"log-level", required_argument, nullptr, kLogLevel},
        {"hugetlbfs", required_argument, nullptr, kHugetlbfs},
        {nullptr, 0, nullptr, 0},
    };
    SwitchConfig cfg;
    gsdk::LogLevel level = gsdk::LogLevel::Info;
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":", options, nullptr)) != -1;) {
        std::string v = optarg ? optarg : "";
        switch (c) {
        case kConfig:
            if (auto e = load_config_file(v, cfg)) return usage_error(*e);
            break;
        case kPort: {
            PortConfig p;
            if (auto e = parse_port_spec(v, p)) return usage_error(*e);
            cfg.ports.push_back(p);
            break;
        }
        case kTap: {
            TapConfig t;
            if (auto e = parse_tap_spec(v, t)) return usage_error(*e);
            cfg.taps.push_back(t);
            break;
        }
        case kPair: {
            auto comma = v.find(',');
            if (comma == std::string::npos || comma == 0 || comma + 1 == v.size())
                return usage_error("--pair " + v + ": expected A,B");
            cfg.pairs.emplace_back(v.substr(0, comma), v.substr(comma + 1));
            break;
        }
        case kLoopback:
            cfg.pairs.emplace_back(v, v);
            break;
        case kSocket:
            cfg.socket_path = v;
            break;
        case kHugetlbfs:
            if (v.empty() || v[0] != '/') return usage_error("--hugetlbfs " + v + ": must be an absolute path");
            cfg.hugetlbfs = v;
            break;
        case kBusyPoll:
            cfg.busy_poll = true;
            break;
        case kMigrateTimeout:
            if (!parse_uint(v.c_str(), 1, 600000, cfg.migrate_timeout_ms))
                return usage_error("--migrate-timeout " + v + ": expected ms in [1, 600000]");
            break;
        case kBench:
            if (!parse_uint(v.c_str(), 1, 3600, cfg.bench_seconds))
                return usage_error("--bench " + v + ": expected seconds in [1, 3600]");
            break;
        case kLogLevel:
            if (!gsdk::log_level_from_string(v.c_str(), &level))
                return usage_error("--log-level " + v + ": expected error, warning, notice, info or debug");
            break;
        case ':':
            return usage_error(std::string(argv[optind - 1]) + " needs a value");
        default:
            return usage_error("unknown option '" + std::string(argv[optind - 1]) + "'");
        }
    }
    if (optind < argc) return usage_error("unexpected argument '" + std::string(argv[optind]) + "'");
    if (auto e = validate_config(cfg)) return usage_error(*e);
    gsdk::log_init("avp-switch", level);
    AvpSwitch sw(cfg);
    std::string err = sw.start();
    if (!err.empty()) {
        LOG_ERROR("%s", err.c_str());
        return 1;
    }
    return sw.run();
}

int cmd_ctl(int argc, char** argv) {
    static const option options[] = {{"socket", required_argument, nullptr, 's'}, {nullptr, 0, nullptr, 0}};
    std::string socket = "/run/avp-switch.sock";
    opterr = 0;
    optind = 1;
    // "+": the command and its words are not options, stop at the first.
    for (int c; (c = getopt_long(argc, argv, "+:", options, nullptr)) != -1;) {
        if (c == 's')
            socket = optarg;
        else if (c == ':')
            return usage_error(std::string(argv[optind - 1]) + " needs a value");
        else
            return usage_error("unknown option '" + std::string(argv[optind - 1]) + "'");
    }
    int i = optind;
    if (i >= argc) return usage_error("ctl: missing command");
    std::string line;
    for (; i < argc; i++) line += (line.empty() ? "" : " ") + std::string(argv[i]);
    std::string reply, err;
    if (!control_call(socket, line, reply, err)) {
        std::fprintf(stderr, "avp-switch: %s\n", err.c_str());
        return 1;
    }
    try {
        auto j = nlohmann::json::parse(reply);
        if (!j.value("ok", false)) {
            std::fprintf(stderr, "avp-switch: error: %s\n", j.value("error", reply).c_str());
            return 1;
        }
        std::printf("%s\n", j.dump(2).c_str());
    } catch (const std::exception&) {
        std::fprintf(stderr, "avp-switch: unreadable reply: %s\n", reply.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage_error("missing command (run or ctl)");
    std::string cmd = argv[1];
    if (cmd == "run") return cmd_run(argc - 1, argv + 1);
    if (cmd == "ctl") return cmd_ctl(argc - 1, argv + 1);
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::printf("%s", kUsage);
        return 0;
    }
    return usage_error("unknown command '" + cmd + "'");
}
