// The command line every guest daemon shares (--config, --socket-dir,
// --log-level, --help; --device and --listen where it owns a port) plus the few options a daemon adds, and
// the start-up steps that follow it: reading the configuration file and
// taking the descriptor limit.
#pragma once

#include <sys/resource.h>

#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gsdk/log.h"

namespace gsdk {

struct DaemonCommandLine {
    std::string config_path;  // the daemon's default unless --config named one
    bool config_explicit = false;
    std::optional<std::string> host_channel;  // --device PATH or --listen unix:PATH
    std::optional<std::string> socket_dir;
    LogLevel level = LogLevel::Info;
    std::map<std::string, std::string> extra;  // the daemon's own options that were given
};

struct DaemonCommandLineSpec {
    const char* program;
    const char* default_config_path;
    std::vector<std::string> extra_options;  // each takes a value: --NAME VALUE
    std::function<void(FILE*)> usage;
    bool host_channel = true;  // --device and --listen (a daemon that owns a port)
};

// Parses argv; returns nullopt to go on, or the status to exit with (0 after
// --help, 2 after a usage error, which is printed naming the cause).
std::optional<int> parse_daemon_command_line(int argc, char** argv, const DaemonCommandLineSpec& spec,
                                             DaemonCommandLine* out);

// The configuration file's text. A default file that does not exist is no
// file (empty text); one named on the command line must be readable. False
// (logged) when it is not.
bool read_daemon_config_file(const DaemonCommandLine& command_line, std::string* text);

// SIGHUP (systemctl reload): the configuration file read again and applied,
// by apply(Config*, text, path) -> problems, over started_from (the defaults
// and the command line). A file that cannot be read, or has any problem, is
// refused whole (each problem logged): false, and the caller keeps its
// running settings. Which settings a reload may change is the daemon's call.
template <class Config, class Apply>
bool reread_daemon_config(const DaemonCommandLine& command_line, const Config& started_from, Apply apply,
                          Config* next) {
    DaemonCommandLine at_reload = command_line;
    at_reload.config_explicit = true;  // at a reload the file must be there
    std::string text;
    if (!read_daemon_config_file(at_reload, &text)) {
        LOG_ERROR("reload: the running configuration stays");
        return false;
    }
    *next = started_from;
    auto problems = apply(next, text, command_line.config_path);
    for (const auto& problem : problems) LOG_ERROR("reload: %s", problem.c_str());
    if (!problems.empty()) {
        LOG_ERROR("reload: %s refused; the running configuration stays", command_line.config_path.c_str());
        return false;
    }
    return true;
}

// Lifts the soft descriptor limit to the hard one (each client holds a
// descriptor); returns the limit now in force, RLIM_INFINITY if unlimited.
// Failures are logged, never fatal: at the limit the daemons turn clients away.
rlim_t raise_descriptor_limit();

}  // namespace gsdk
