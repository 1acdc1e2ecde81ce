// `vmhostctl scale VM cpu up|down` end to end: the real vmhostd, the real
// server-groupd on vm-1's messaging socket and the real guest-scaled on a
// fake sysfs tree. vm-2 is a fake server-groupd in vm-1's server group, to
// see the group told of each scale operation.
#include <filesystem>

#include "host_test_support.h"
#include "messaging_guest.h"
#include "scale_fixture.h"
#include "scale_layer.h"

namespace {

using gsdk::test::FakeCpuTree;
using gsdk::test::Subprocess;
using gsdk::test::TempDir;
using hosttest::CommandResult;
using hosttest::eventually;
using hosttest::MessagingGuest;
using hosttest::VmhostdProcess;
using nlohmann::json;
using namespace std::chrono_literals;

class HostScaleTest : public ::testing::Test {
protected:
    void SetUp() override {
        tree = std::make_unique<FakeCpuTree>(dir.file("sys"), 4);
        member = std::make_unique<MessagingGuest>(dir.file("vm-2.msg"));
        member->listen();
        gsdk::test::write_file(dir.file("sg.conf"), "LEGACY_DATAGRAMS=no\n");
        std::filesystem::create_directories(dir.file("sg"));
        server_groupd.start({gsdk::test::server_groupd_path(), "--listen", "unix:" + dir.file("vm-1.msg"), "--config",
                             dir.file("sg.conf"), "--socket-dir", dir.file("sg"), "--log-level", "debug"},
                            dir.file("server-groupd.log"));
        ASSERT_TRUE(gsdk::test::wait_for_path(dir.file("sg/services.sock"), 20s));
        gsdk::test::write_file(dir.file("gs.conf"), "SOCKET_GROUP=\n");
        guest_scaled.start(
            {gsdk::test::guest_scaled_path(), "--config", dir.file("gs.conf"), "--sysfs-root", dir.file("sys"),
             "--service-socket", dir.file("sg/services.sock"), "--socket-dir", dir.file("gs"), "--state-file",
             dir.file("offline_cpus"), "--helper", "", "--log-level", "debug"},
            dir.file("guest-scaled.log"));
        ASSERT_TRUE(gsdk::test::wait_for_text(dir.file("server-groupd.log"), "serves cgcs.scale", 20s))
            << gsdk::test::read_file(dir.file("guest-scaled.log"));
        hosttest::marker_script(dir, dir.file("executor.marker"));
        json vms = json::array();
        for (int i = 1; i <= 2; ++i) {
            std::string name = "vm-" + std::to_string(i);
            vms.push_back({{"name", name},
                           {"heartbeat", "unix:" + dir.file(name + ".hb")},
                           {"messaging", "unix:" + dir.file(name + ".msg")},
                           {"vcpus", 4},
                           {"min_vcpus", 2},
                           {"executor", {{"type", "command"}, {"argv", {dir.file("executor.sh")}}}}});
        }
        json config = {{"control_socket", dir.file("control.sock")},
                       {"vms", vms},
                       {"server_groups", {{{"name", "g1"}, {"members", {"vm-1", "vm-2"}}}}}};
        gsdk::test::write_file(dir.file("vmhostd.json"), config.dump(2));
        ASSERT_TRUE(vmhostd.start(dir.file("vmhostd.json"), dir.file("control.sock"), dir.file("vmhostd.log")))
            << vmhostd.log();
        ASSERT_TRUE(member->accept(hosttest::kPatience)) << vmhostd.log();
        ASSERT_TRUE(eventually([&] {
            auto l = ctl_json({"list"});
            return l.contains("vms") && l["vms"][0]["messaging"] == "connected";
        })) << vmhostd.log();
    }
    void TearDown() override {
        if (HasFailure())
            std::fprintf(stderr, "---- vmhostd ----\n%s\n---- guest-scaled ----\n%s\n", vmhostd.log().c_str(),
                         gsdk::test::read_file(dir.file("guest-scaled.log")).c_str());
        vmhostd.stop();
    }

    CommandResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), {hosttest::vmhostctl_path(), "--socket", dir.file("control.sock")});
        return hosttest::run_command(args);
    }
    json ctl_json(std::vector<std::string> args) {
        args.insert(args.begin(), "--json");
        auto r = ctl(args);
        auto j = json::parse(r.out, nullptr, false);
        return j.is_discarded() ? json() : j;
    }
    // `scale vm-1 cpu DIRECTION --json`: (exit status, output).
    std::pair<int, json> scale(const std::string& direction) {
        auto r = ctl({"--json", "scale", "vm-1", "cpu", direction});
        auto j = json::parse(r.out, nullptr, false);
        return {r.exit_code, j.is_discarded() ? json{{"stderr", r.err}} : j};
    }
    // The next scale notification vm-2 is sent about vm-1.
    std::optional<json> notification() {
        auto line = member->next_of("notification", hosttest::kPatience);
        if (!line) return std::nullopt;
        return (*line)["data"]["data"];
    }

    TempDir dir;
    std::unique_ptr<FakeCpuTree> tree;
    std::unique_ptr<MessagingGuest> member;
    Subprocess server_groupd;
    Subprocess guest_scaled;
    VmhostdProcess vmhostd;
};

TEST_F(HostScaleTest, DownAndUpWithinTheVmsBounds) {
    auto [rc, r] = scale("down");
    EXPECT_EQ(rc, 0) << r;
    EXPECT_EQ(r["result"], "success");
    EXPECT_EQ(r["offline_cpu"], 3);
    EXPECT_EQ(r["online_cpus"], json({0, 1, 2}));
    EXPECT_EQ(r["as_expected"], true);
    EXPECT_TRUE(gsdk::scalewire::is_host_address(r["requester"].get<std::string>())) << r;
    EXPECT_FALSE(tree->online(3));
    std::tie(rc, r) = scale("down");
    EXPECT_EQ(r["offline_cpu"], 2);
    // At min_vcpus (2): the host refuses without asking the guest.
    auto refused = ctl({"scale", "vm-1", "cpu", "down"});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("its minimum (min_vcpus 2)"), std::string::npos) << refused.err;
    EXPECT_EQ(tree->online_list(4), std::vector<unsigned>({0, 1}));

    // Up takes the lowest offline CPU.
    std::tie(rc, r) = scale("up");
    EXPECT_EQ(rc, 0) << r;
    EXPECT_EQ(r["online_cpu"], 2);
    EXPECT_EQ(r["online_cpus"], json({0, 1, 2}));
    std::tie(rc, r) = scale("up");
    EXPECT_EQ(r["online_cpu"], 3);
    refused = ctl({"scale", "vm-1", "cpu", "up"});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("its maximum (vcpus 4)"), std::string::npos) << refused.err;
    EXPECT_EQ(tree->online_list(4), std::vector<unsigned>({0, 1, 2, 3}));

    auto listed = ctl_json({"list"});
    EXPECT_EQ(listed["vms"][0]["online_cpus"], json({0, 1, 2, 3}));
    EXPECT_EQ(listed["vms"][0]["min_vcpus"], 2);
    auto events = ctl({"events", "vm-1"});
    EXPECT_NE(events.out.find("scale down: CPU 3 offline"), std::string::npos) << events.out;
}

TEST_F(HostScaleTest, TheServerGroupIsToldOfEachScaleOperation) {
    ASSERT_EQ(scale("down").first, 0);
    auto n = notification();
    ASSERT_TRUE(n);
    EXPECT_EQ((*n)["event_type"], "scale_down") << *n;
    EXPECT_EQ((*n)["online_cpus"], 3) << *n;
    ASSERT_EQ(scale("up").first, 0);
    n = notification();
    ASSERT_TRUE(n);
    EXPECT_EQ((*n)["event_type"], "scale_up") << *n;
    EXPECT_EQ((*n)["online_cpus"], 4) << *n;
}

TEST_F(HostScaleTest, AGuestThatDisagreesIsReportedAndItsViewKept) {
    // Behind the host's back: CPU 3 goes offline inside the guest.
    tree->set(3, false);
    auto [rc, r] = scale("down");
    EXPECT_EQ(rc, 0) << r;
    EXPECT_EQ(r["offline_cpu"], 2);
    EXPECT_EQ(r["online_cpus"], json({0, 1}));
    EXPECT_EQ(r["expected_cpus"], json({0, 1, 3}));
    EXPECT_EQ(r["as_expected"], false);
    auto text = ctl({"scale", "vm-1", "cpu", "up"});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("CPU 2 online"), std::string::npos) << text.out;
    // The guest refuses what it cannot do: exit status 1, its err_msg shown.
    std::filesystem::remove(tree->online_file(3));
    auto refused = ctl({"scale", "vm-1", "cpu", "up"});
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.out.find("refused by the guest: CPU 3 has no online file"), std::string::npos) << refused.out;
}

TEST_F(HostScaleTest, RequestsTheHostCannotServeAreErrors) {
    for (std::vector<std::string> args : {std::vector<std::string>{"scale", "vm-9", "cpu", "up"},
                                          std::vector<std::string>{"scale", "vm-1", "memory", "up"}}) {
        auto r = ctl(args);
        EXPECT_EQ(r.exit_code, 2) << r.out;
        EXPECT_FALSE(r.err.empty());
    }
    auto r = ctl({"scale", "vm-1", "cpu", "sideways"});
    EXPECT_EQ(r.exit_code, 2);
    // vm-2's fake server-groupd never answers: the host gives up after 10 s.
    auto silent = ctl({"--json", "scale", "vm-2", "cpu", "down"});
    EXPECT_EQ(silent.exit_code, 2) << silent.out;
    EXPECT_NE(silent.out.find("no answer from the guest"), std::string::npos) << silent.out;
}

}  // namespace
