// `vmhostctl scale` against a simulated VM (tools/simvm --vcpus): the real
// vmhostd, the VM's server-groupd on its messaging socket, the VM's
// guest-scaled on its fake CPU tree, and the example scale_worker, which
// chooses the CPU to give up and moves its shards off it first.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_process.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

const std::string kSimvm = std::string(GSDK_SOURCE_DIR) + "/tools/simvm";
const std::string kBuildEnv = std::string("BUILD=") + GSDK_BINARY_DIR;
constexpr auto kPatience = 30s;

class SimvmScaleTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(simvm({"create", root.path(), "vm", "--vcpus", "4", "--app",
                         std::string(SCALE_WORKER) + " --shards 5 --placement @VM@/placement"}),
                  0);
        ASSERT_EQ(simvm({"start", root.path(), "vm"}), 0);
        // The VM's own server-groupd (simvm starts it with guest-scaled) has
        // taken guest-scaled's claim on cgcs.scale.
        ASSERT_TRUE(wait_for_text(vm() + "/server-groupd.log", "serves cgcs.scale", kPatience))
            << read_file(vm() + "/guest-scaled.log");
        ASSERT_TRUE(wait_for_text(vm() + "/app-app.log", "this worker chooses", kPatience))
            << read_file(vm() + "/app-app.log");
        write_file(
            root / "vmhostd.json",
            nlohmann::json{
                {"control_socket", root / "ctl.sock"},
                {"vms",
                 {{{"name", "vm"},
                   {"heartbeat", "unix:" + vm() + "/hb.sock"},
                   {"messaging", "unix:" + vm() + "/messaging.sock"},
                   {"vcpus", 4},
                   {"min_vcpus", 1},
                   {"executor",
                    {{"type", "command"}, {"argv", {"/usr/bin/env", kBuildEnv, kSimvm, "exec", root.path()}}}}}}}}
                .dump());
        vmhostd.start({VMHOSTD, "--config", root / "vmhostd.json"}, root / "vmhostd.log");
        ASSERT_TRUE(wait_for_path(root / "ctl.sock", kPatience));
    }
    void TearDown() override {
        if (HasFailure())
            std::fprintf(stderr, "---- guest-scaled ----\n%s\n---- worker ----\n%s\n---- vmhostd ----\n%s\n",
                         read_file(vm() + "/guest-scaled.log").c_str(), read_file(vm() + "/app-app.log").c_str(),
                         read_file(root / "vmhostd.log").c_str());
        vmhostd.stop();
        simvm({"stop", root.path(), "vm"});
    }

    std::string vm() const { return root / "vm"; }
    int simvm(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"/usr/bin/env", kBuildEnv, kSimvm};
        argv.insert(argv.end(), args.begin(), args.end());
        std::string out;
        int rc = run_command(argv, &out);
        EXPECT_EQ(rc, 0) << out;
        return rc;
    }
    // vmhostctl scale vm cpu DIRECTION, retried while the messaging port is
    // still connecting (exit 2 with "not connected" only).
    nlohmann::json scale(const std::string& direction, int* status) {
        std::string out;
        auto end = std::chrono::steady_clock::now() + kPatience;
        do {
            *status = run_command({VMHOSTCTL, "--socket", root / "ctl.sock", "--json", "scale", "vm", "cpu", direction},
                                  &out);
            if (out.find("not connected") == std::string::npos) break;
            std::this_thread::sleep_for(100ms);
        } while (std::chrono::steady_clock::now() < end);
        auto j = nlohmann::json::parse(out, nullptr, false);
        return j.is_discarded() ? nlohmann::json{{"output", out}} : j;
    }
    // shard -> CPU, from the worker's placement file.
    std::map<std::string, unsigned> placement() {
        std::map<std::string, unsigned> out;
        std::istringstream in(read_file(vm() + "/placement"));
        std::string shard;
        unsigned cpu;
        while (in >> shard >> cpu) out[shard] = cpu;
        return out;
    }
    bool cpu_online(unsigned cpu) {
        return read_file(vm() + "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/online") == "1\n";
    }

    TempDir root;
    Subprocess vmhostd;
};

TEST_F(SimvmScaleTest, TheWorkersChoiceGoesOfflineWithItsWorkMovedFirst) {
    int status = 0;
    auto r = scale("down", &status);
    ASSERT_EQ(status, 0) << r;
    // Five shards over CPUs 0-3 leave CPU 1 as the lowest of the least loaded:
    // the worker gives it up, not the default (3).
    EXPECT_EQ(r["offline_cpu"], 1) << r;
    EXPECT_EQ(r["online_cpus"], nlohmann::json({0, 2, 3})) << r;
    EXPECT_FALSE(cpu_online(1));
    EXPECT_TRUE(cpu_online(3));
    auto shards = placement();
    EXPECT_EQ(shards.size(), 5u);
    for (const auto& [shard, cpu] : shards) EXPECT_NE(cpu, 1u) << shard;
    EXPECT_NE(read_file(vm() + "/guest-scaled.log").find("chosen by application"), std::string::npos)
        << read_file(vm() + "/guest-scaled.log");

    r = scale("up", &status);
    ASSERT_EQ(status, 0) << r;
    EXPECT_EQ(r["online_cpu"], 1) << r;
    EXPECT_TRUE(cpu_online(1));
    // The worker spreads onto the CPU that came back.
    ASSERT_TRUE(wait_for_text(vm() + "/app-app.log", "scale up: CPU 1 online", kPatience));
    bool used = false;
    auto end = std::chrono::steady_clock::now() + kPatience;
    while (!used && std::chrono::steady_clock::now() < end) {
        for (const auto& [shard, cpu] : placement()) used = used || cpu == 1;
        if (!used) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(used) << read_file(vm() + "/placement");
}

}  // namespace
