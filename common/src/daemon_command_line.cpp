#include "gsdk/daemon_command_line.h"

#include <getopt.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gsdk {

namespace {
enum : int { kDevice = 1000, kListen, kConfig, kSocketDir, kLogLevel, kHelp, kFirstExtra };
}

std::optional<int> parse_daemon_command_line(int argc, char** argv, const DaemonCommandLineSpec& spec,
                                             DaemonCommandLine* out) {
    out->config_path = spec.default_config_path;
    std::vector<option> options = {
        {"config", required_argument, nullptr, kConfig},
        {"socket-dir", required_argument, nullptr, kSocketDir},
        {"log-level", required_argument, nullptr, kLogLevel},
        {"help", no_argument, nullptr, kHelp},
    };
    if (spec.host_channel) {
        options.push_back({"device", required_argument, nullptr, kDevice});
        options.push_back({"listen", required_argument, nullptr, kListen});
    }
    for (std::size_t i = 0; i < spec.extra_options.size(); ++i)
        options.push_back({spec.extra_options[i].c_str(), required_argument, nullptr, kFirstExtra + int(i)});
    options.push_back({nullptr, 0, nullptr, 0});

    optind = 1;
    for (int opt; (opt = getopt_long(argc, argv, "h", options.data(), nullptr)) != -1;) {
        switch (opt) {
        case kDevice:
            out->host_channel = optarg;
            break;
        case kListen:
            if (std::strncmp(optarg, "unix:", 5) != 0) {
                std::fprintf(stderr, "%s: --listen needs unix:PATH, got %s\n", spec.program, optarg);
                return 2;
            }
            out->host_channel = optarg;
            break;
        case kConfig:
            out->config_path = optarg;
            out->config_explicit = true;
            break;
        case kSocketDir:
            out->socket_dir = optarg;
            break;
        case kLogLevel:
            if (!log_level_from_string(optarg, &out->level)) {
                std::fprintf(stderr, "%s: unknown log level %s\n", spec.program, optarg);
                return 2;
            }
            break;
        case 'h':
        case kHelp:
            spec.usage(stdout);
            return 0;
        default:
            if (opt >= kFirstExtra && opt < kFirstExtra + int(spec.extra_options.size())) {
                out->extra[spec.extra_options[opt - kFirstExtra]] = optarg;
                break;
            }
            spec.usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "%s: unexpected argument %s\n", spec.program, argv[optind]);
        return 2;
    }
    return std::nullopt;
}

bool read_daemon_config_file(const DaemonCommandLine& command_line, std::string* text) {
    text->clear();
    std::ifstream in(command_line.config_path);
    if (!in) {
        if (!command_line.config_explicit && errno == ENOENT) return true;
        LOG_ERROR("cannot read config file %s: %s", command_line.config_path.c_str(), std::strerror(errno));
        return false;
    }
    std::stringstream contents;
    contents << in.rdbuf();
    *text = contents.str();
    return true;
}

rlim_t raise_descriptor_limit() {
    rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
        LOG_WARN("cannot read the descriptor limit: %s", std::strerror(errno));
        return 1024;
    }
    if (lim.rlim_cur < lim.rlim_max) {
        rlim_t before = lim.rlim_cur;
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) < 0) {
            LOG_WARN("cannot raise the descriptor limit to %llu: %s", static_cast<unsigned long long>(lim.rlim_max),
                     std::strerror(errno));
            return before;
        }
    }
    return lim.rlim_cur;
}

}  // namespace gsdk
