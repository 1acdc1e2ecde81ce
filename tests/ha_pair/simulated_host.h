// A host and its simulated VMs for end-to-end tests: the real vmhostd and
// vmhostctl, and VMs made by tools/simvm (guest-heartbeatd, server-groupd and
// the VM's applications in one process group each), members of one server
// group. Nothing is faked: every message crosses the real daemons and sockets.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_process.h"

namespace gsdk::test {

struct SimulatedVm {
    std::string name;
    std::vector<std::string> apps;  // command lines; @VM@ is the VM directory
};

class SimulatedHost {
public:
    explicit SimulatedHost(std::string group = "ha-pair") : group_(std::move(group)) {}
    ~SimulatedHost();  // powers every VM off and stops vmhostd

    // Creates and starts the VMs (with messaging), then vmhostd supervising
    // them, and waits until every VM's heartbeat and messaging are up.
    // False (with what went wrong in why()) if that does not happen in time.
    bool start(const std::vector<SimulatedVm>& vms, std::chrono::milliseconds timeout = std::chrono::seconds(30));

    const std::string& root() const { return root_.path(); }
    std::string vm_dir(const std::string& vm) const { return root_ / vm; }
    std::string file(const std::string& name) const { return root_ / name; }
    const std::string& why() const { return why_; }

    // tools/simvm ARGS... (its exit status; output in *out).
    int simvm(const std::vector<std::string>& args, std::string* out = nullptr);
    // vmhostctl --socket ... ARGS (its output; the exit status in *status).
    std::string ctl(const std::vector<std::string>& args, int* status = nullptr);
    nlohmann::json group_show();
    nlohmann::json list();

    // Until vmhostd shows the VM with an active heartbeat and a connected
    // messaging socket.
    bool wait_until_up(const std::string& vm, std::chrono::milliseconds timeout);
    // Logs of vmhostd and each VM's daemons, for a failing test's output.
    std::string diagnostics();

private:
    std::string group_;
    TempDir root_;
    Subprocess vmhostd_;
    std::vector<std::string> vms_;
    std::string why_;
};

}  // namespace gsdk::test
