// Starts the real avp-switch binary for a test and talks to its control
// socket; everything lives under names unique to this test process.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace avptest {

// A unique scratch name for this process: "/dev/shm/avpsw-<pid>-<tag>" etc.
std::string shm_path(const std::string& tag);
std::string tmp_path(const std::string& tag);

struct RunResult {
    int exit_code = -1;
    std::string err;  // stderr
    std::string out;  // stdout
};
// Runs avp-switch with `args` to completion (for CLI error tests).
RunResult run_switch_cli(const std::vector<std::string>& args, int timeout_ms = 10000);

class SwitchProcess {
public:
    // Starts `avp-switch run <args> --socket <own>` and waits until it
    // answers; `wrapper` runs it (e.g. `ip netns exec NS`), exec'ing in place.
    explicit SwitchProcess(std::vector<std::string> args, const std::vector<std::string>& wrapper = {});
    ~SwitchProcess();

    bool ok() const { return ready_; }
    int pid() const { return pid_; }
    const std::string& socket() const { return socket_; }
    const std::string& log();
    bool running();
    // Sends one control line and returns the parsed reply ({"ok":false} on failure).
    nlohmann::json ctl(const std::string& line);
    nlohmann::json port(const std::string& name);  // stats of one port
    // Stops it with the shutdown command; returns the exit status.
    int stop();

private:
    std::string socket_;
    std::string log_path_;
    std::string log_;
    int pid_ = -1;
    bool ready_ = false;
};

}  // namespace avptest
