// The whole heartbeat path with nothing simulated but the VM itself: vmhostd
// and vmhostctl on the host side, a simulated VM (tools/simvm: the real
// guest-heartbeatd and example VNFs in one process group) on the other.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <thread>

#include "test_process.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

const std::string kSimvm = std::string(GSDK_SOURCE_DIR) + "/tools/simvm";
const std::vector<std::string> kSimvmEnv = {std::string("BUILD=") + GSDK_BINARY_DIR};

class HostEndToEnd : public ::testing::Test {
protected:
    TempDir root;
    Subprocess vmhostd;
    std::string vm_dir() const { return root / "vm"; }
    std::string host_actions() const { return vm_dir() + "/host-actions"; }

    int simvm(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"/usr/bin/env"};
        argv.insert(argv.end(), kSimvmEnv.begin(), kSimvmEnv.end());
        argv.push_back(kSimvm);
        argv.insert(argv.end(), args.begin(), args.end());
        std::string out;
        int rc = run_command(argv, &out);
        EXPECT_EQ(rc, 0) << out;
        return rc;
    }

    // A VM with one legacy VNF, vnf-a, steered through its state directory.
    void start(const std::string& app_action = "reboot") {
        simvm({"create", root.path(), "vm", "--interval", "1000", "--action", "reboot", "--app",
               std::string(VNF_LEGACY) + " --name vnf-a --interval 1000 --action " + app_action +
                   " --vote-secs 2 --state-dir @VM@/state"});
        simvm({"start", root.path(), "vm"});
        write_file(
            root / "vmhostd.json",
            nlohmann::json{
                {"control_socket", root / "ctl.sock"},
                {"vms",
                 {{{"name", "vm"},
                   {"heartbeat", "unix:" + vm_dir() + "/hb.sock"},
                   {"executor",
                    {{"type", "command"}, {"argv", {"/usr/bin/env", kSimvmEnv[0], kSimvm, "exec", root.path()}}}}}}}}
                .dump());
        vmhostd.start({VMHOSTD, "--config", root / "vmhostd.json", "--log-level", "debug"}, root / "vmhostd.log");
        ASSERT_TRUE(wait_until_listed("vnf-a", "healthy", 20s)) << ctl({"list"});
    }

    std::string ctl(const std::vector<std::string>& args, int* status = nullptr) {
        std::vector<std::string> argv = {VMHOSTCTL, "--socket", root / "ctl.sock"};
        argv.insert(argv.end(), args.begin(), args.end());
        std::string out;
        int rc = run_command(argv, &out);
        if (status) *status = rc;
        return out;
    }

    bool wait_until_listed(const std::string& app, const std::string& state, std::chrono::milliseconds timeout) {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            auto vms = nlohmann::json::parse(ctl({"--json", "list"}), nullptr, false);
            if (!vms.is_discarded()) {
                for (const auto& vm : vms.is_array() ? vms : vms.value("vms", nlohmann::json::array())) {
                    if (vm.value("heartbeat", "") != "active") continue;
                    for (const auto& a : vm.value("applications", nlohmann::json::array()))
                        if (a.value("name", "") == app && a.value("state", "") == state) return true;
                }
            }
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }

    pid_t app_pid() {
        std::smatch m;
        std::string log = read_file(vm_dir() + "/app-vnf-a.log");
        if (!std::regex_search(log, m, std::regex("started \\(pid ([0-9]+)\\)"))) return -1;
        return std::stoi(m[1]);
    }

    void TearDown() override {
        vmhostd.stop();
        simvm({"stop", root.path(), "vm"});
        if (HasFailure()) {
            std::fprintf(stderr, "---- vmhostd ----\n%s\n---- guest ----\n%s\n",
                         read_file(root / "vmhostd.log").c_str(),
                         read_file(vm_dir() + "/guest-heartbeatd.log").c_str());
        }
    }
};

}  // namespace

TEST_F(HostEndToEnd, VetoedStopDoesNotHappenAndNamesTheApplication) {
    start();
    write_file(vm_dir() + "/state/reject-stop", "active calls");
    int status = 0;
    std::string out = ctl({"action", "vm", "stop"}, &status);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("rejected by vnf-a: active calls"), std::string::npos) << out;
    EXPECT_EQ(read_file(host_actions()), "");
}

TEST_F(HostEndToEnd, AcceptedLiveMigrationIsVotedNotifiedCarriedOutAndEndNotified) {
    start();
    int status = 0;
    std::string out = ctl({"action", "vm", "live-migrate"}, &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(read_file(host_actions()).find("live-migrate"), std::string::npos);
    std::string app = read_file(vm_dir() + "/app-vnf-a.log");
    auto vote = app.find("vote on live_migrate_begin");
    auto pre = app.find("notification of live_migrate_begin");
    auto post = app.find("notification of live_migrate_end");
    ASSERT_NE(vote, std::string::npos) << app;
    ASSERT_NE(pre, std::string::npos) << app;
    ASSERT_NE(post, std::string::npos) << app;
    EXPECT_LT(vote, pre);
    EXPECT_LT(pre, post);
}

TEST_F(HostEndToEnd, HungApplicationIsCorrectedByTheHost) {
    start("reboot");
    write_file(vm_dir() + "/state/hang", "");
    ASSERT_TRUE(wait_for_text(host_actions(), "reboot", 20s)) << ctl({"events", "vm"});
    ::unlink((vm_dir() + "/state/hang").c_str());
    std::string events = ctl({"events", "vm", "--limit", "50"});
    EXPECT_NE(events.find("not answering health checks (hung)"), std::string::npos) << events;
    // The VM comes back and its application registers again.
    EXPECT_TRUE(wait_until_listed("vnf-a", "healthy", 30s));
}

TEST_F(HostEndToEnd, KilledApplicationIsCorrectedWithItsOwnAction) {
    start("stop");
    pid_t pid = app_pid();
    ASSERT_GT(pid, 0);
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(wait_for_text(host_actions(), "stop", 20s)) << ctl({"events", "vm"});
    std::string events = ctl({"events", "vm", "--limit", "50"});
    EXPECT_NE(events.find("vnf-a: exited without deregistering"), std::string::npos) << events;
}

TEST_F(HostEndToEnd, ABinaryBundlingTheOriginalLibraryIsListedBesideOursAndItsDeathCorrected) {
    start("reboot");
    // It speaks the original library's framing on the guest's legacy socket.
    Subprocess legacy;
    legacy.start({LEGACY_BINARY_APP, "--socket", vm_dir() + "/legacy.sock", "--name", "legacy-bin", "--interval", "300",
                  "--action", "3", "--lifetime", "100"},
                 root / "legacy-bin.log");
    ASSERT_TRUE(wait_until_listed("legacy-bin", "healthy", 20s)) << ctl({"list"}) << read_file(root / "legacy-bin.log");
    EXPECT_TRUE(wait_until_listed("vnf-a", "healthy", 5s)) << ctl({"list"});
    legacy.signal(SIGKILL);
    ASSERT_TRUE(wait_for_text(host_actions(), "stop", 20s)) << ctl({"events", "vm"});
    std::string events = ctl({"events", "vm", "--limit", "50"});
    EXPECT_NE(events.find("legacy-bin: exited without deregistering"), std::string::npos) << events;
}

TEST_F(HostEndToEnd, DaemonRestartIsNotAHeartbeatLossAndApplicationsComeBack) {
    start();
    simvm({"restart-daemon", root.path(), "vm"});
    std::this_thread::sleep_for(1500ms);  // more than two challenge intervals
    ASSERT_TRUE(wait_until_listed("vnf-a", "healthy", 20s)) << ctl({"events", "vm"});
    std::set<std::string> kinds;
    auto events = nlohmann::json::parse(ctl({"--json", "events", "vm", "--limit", "100"}), nullptr, false);
    ASSERT_FALSE(events.is_discarded());
    for (const auto& e : events.is_array() ? events : events.value("events", nlohmann::json::array()))
        kinds.insert(e.value("kind", ""));
    EXPECT_TRUE(kinds.count("exit")) << events.dump(1);
    EXPECT_EQ(kinds.count("loss"), 0u) << events.dump(1);
    EXPECT_EQ(kinds.count("corrective-action"), 0u) << events.dump(1);
    EXPECT_EQ(kinds.count("unhealthy"), 0u) << events.dump(1);
    EXPECT_EQ(read_file(host_actions()), "");
}
