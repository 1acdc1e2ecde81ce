// avp-switch: the host end of AVP devices.
//   avp-switch run [--config FILE] [--port SPEC]... [--pair A,B]... [--loopback A]
//                  [--socket PATH] [--busy-poll] [--migrate-timeout MS] [--bench SECONDS]
//   avp-switch ctl [--socket PATH] COMMAND [ARGS...]
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
    "                 [--pair A,B]... [--loopback A] [--socket PATH] [--busy-poll]\n"
    "                 [--migrate-timeout MS] [--bench SECONDS]\n"
    "  avp-switch ctl [--socket PATH] ports|stats [PORT]|migrate PORT detach|attach [MS]|\n"
    "                 fault PORT MODE [COUNT]|bench|shutdown|help\n"
    "port options: mac=, buffers=, mbuf_size=, fifo_len=, queues=, slot=, uio=, replace=0|1\n";

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

int cmd_run(int argc, char** argv) {
    SwitchConfig cfg;
    for (int i = 0; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](const char* what) -> const char* {
            if (i + 1 >= argc) return nullptr;
            (void)what;
            return argv[++i];
        };
        const char* v = nullptr;
        if (a == "--busy-poll") {
            cfg.busy_poll = true;
        } else if (a == "--config" || a == "--port" || a == "--pair" || a == "--loopback" || a == "--socket" ||
                   a == "--migrate-timeout" || a == "--bench") {
            if (!(v = value(a.c_str()))) return usage_error(a + " needs a value");
            if (a == "--config") {
                if (auto e = load_config_file(v, cfg)) return usage_error(*e);
            } else if (a == "--port") {
                PortConfig p;
                if (auto e = parse_port_spec(v, p)) return usage_error(*e);
                cfg.ports.push_back(p);
            } else if (a == "--pair") {
                std::string s = v;
                auto c = s.find(',');
                if (c == std::string::npos || c == 0 || c + 1 == s.size())
                    return usage_error("--pair " + s + ": expected A,B");
                cfg.pairs.emplace_back(s.substr(0, c), s.substr(c + 1));
            } else if (a == "--loopback") {
                cfg.pairs.emplace_back(v, v);
            } else if (a == "--socket") {
                cfg.socket_path = v;
            } else if (a == "--migrate-timeout") {
                if (!parse_uint(v, 1, 600000, cfg.migrate_timeout_ms))
                    return usage_error("--migrate-timeout " + std::string(v) + ": expected ms in [1, 600000]");
            } else if (!parse_uint(v, 1, 3600, cfg.bench_seconds)) {
                return usage_error("--bench " + std::string(v) + ": expected seconds in [1, 3600]");
            }
        } else {
            return usage_error("unknown option '" + a + "'");
        }
    }
    if (auto e = validate_config(cfg)) return usage_error(*e);
    AvpSwitch sw(cfg);
    std::string err = sw.start();
    if (!err.empty()) {
        std::fprintf(stderr, "avp-switch: %s\n", err.c_str());
        return 1;
    }
    return sw.run();
}

int cmd_ctl(int argc, char** argv) {
    std::string socket = "/run/avp-switch.sock";
    int i = 0;
    if (argc >= 2 && std::strcmp(argv[0], "--socket") == 0) {
        socket = argv[1];
        i = 2;
    }
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
    if (cmd == "run") return cmd_run(argc - 2, argv + 2);
    if (cmd == "ctl") return cmd_ctl(argc - 2, argv + 2);
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        std::printf("%s", kUsage);
        return 0;
    }
    return usage_error("unknown command '" + cmd + "'");
}
