#include "simulated_host.h"

#include <thread>

namespace gsdk::test {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kSimvm = std::string(GSDK_SOURCE_DIR) + "/tools/simvm";
const std::string kBuildEnv = std::string("BUILD=") + GSDK_BINARY_DIR;

}  // namespace

SimulatedHost::~SimulatedHost() {
    vmhostd_.stop();
    for (const auto& vm : vms_) simvm({"stop", root(), vm});
}

int SimulatedHost::simvm(const std::vector<std::string>& args, std::string* out) {
    std::vector<std::string> argv = {"/usr/bin/env", kBuildEnv, kSimvm};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string text;
    int rc = run_command(argv, &text);
    if (out) *out = text;
    if (rc != 0) why_ += "simvm " + args.front() + " failed (" + std::to_string(rc) + "): " + text;
    return rc;
}

std::string SimulatedHost::ctl(const std::vector<std::string>& args, int* status) {
    std::vector<std::string> argv = {VMHOSTCTL, "--socket", file("ctl.sock")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    int rc = run_command(argv, &out);
    if (status) *status = rc;
    return out;
}

nlohmann::json SimulatedHost::group_show() {
    return nlohmann::json::parse(ctl({"--json", "group", "show", group_}), nullptr, false);
}

nlohmann::json SimulatedHost::list() { return nlohmann::json::parse(ctl({"--json", "list"}), nullptr, false); }

bool SimulatedHost::start(const std::vector<SimulatedVm>& vms, std::chrono::milliseconds timeout) {
    nlohmann::json vm_list = nlohmann::json::array();
    std::vector<std::string> members;
    for (const auto& vm : vms) {
        std::vector<std::string> args = {"create", root(), vm.name, "--interval", "300", "--messaging"};
        for (const auto& app : vm.apps) {
            args.push_back("--app");
            args.push_back(app);
        }
        if (simvm(args) != 0 || simvm({"start", root(), vm.name}) != 0) return false;
        vms_.push_back(vm.name);
        members.push_back(vm.name);
        vm_list.push_back(
            {{"name", vm.name},
             {"heartbeat", "unix:" + vm_dir(vm.name) + "/hb.sock"},
             {"messaging", "unix:" + vm_dir(vm.name) + "/messaging.sock"},
             {"executor", {{"type", "command"}, {"argv", {"/usr/bin/env", kBuildEnv, kSimvm, "exec", root()}}}}});
    }
    write_file(file("vmhostd.json"), nlohmann::json{{"control_socket", file("ctl.sock")},
                                                    {"vms", vm_list},
                                                    {"server_groups", {{{"name", group_}, {"members", members}}}}}
                                         .dump(2));
    vmhostd_.start({VMHOSTD, "--config", file("vmhostd.json"), "--log-level", "debug"}, file("vmhostd.log"));
    auto end = Clock::now() + timeout;
    for (const auto& vm : vms) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
        if (!wait_until_up(vm.name, std::max(left, 0ms))) {
            why_ += vm.name + " did not come up: " + ctl({"list"});
            return false;
        }
    }
    return true;
}

bool SimulatedHost::wait_until_up(const std::string& vm, std::chrono::milliseconds timeout) {
    auto end = Clock::now() + timeout;
    do {
        auto vms = list();
        if (vms.is_object())
            for (const auto& v : vms.value("vms", nlohmann::json::array()))
                if (v.value("name", "") == vm && v.value("heartbeat", "") == "active" &&
                    v.value("messaging", "") == "connected")
                    return true;
        std::this_thread::sleep_for(100ms);
    } while (Clock::now() < end);
    return false;
}

std::string SimulatedHost::diagnostics() {
    std::string out = "---- vmhostd ----\n" + read_file(file("vmhostd.log"));
    for (const auto& vm : vms_) {
        out += "---- " + vm + " server-groupd ----\n" + read_file(vm_dir(vm) + "/server-groupd.log");
        out += "---- " + vm + " host actions ----\n" + read_file(vm_dir(vm) + "/host-actions");
    }
    return out;
}

}  // namespace gsdk::test
