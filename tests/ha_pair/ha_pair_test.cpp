// The HA pair of examples/ha_pair end to end: two simulated VMs of one server
// group, each running guest-heartbeatd, server-groupd and an ha_pair node;
// vmhostd relaying between them and carrying out host actions; ha_client
// sending 100 numbered requests a second to the pair's service address. Every
// test ends the client, which drains and counts, and asserts that every
// request was answered exactly once: none lost, none twice.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <sstream>

#include "simulated_host.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

struct PairSettings {
    // The standby's own detection of a dead active (missed pair heartbeats,
    // 100 ms apart). Generous, so a loaded machine does not cause a takeover
    // the test did not ask for.
    int dead_after = 20;
};

class HaPair : public ::testing::Test {
protected:
    SimulatedHost host;
    Subprocess client;

    std::string node_log(const std::string& vm) const {
        return host.vm_dir(vm) + "/app-ha-" + vm.substr(vm.size() - 1) + ".log";
    }
    std::string client_log() const { return host.file("client.log"); }
    std::string service() const { return host.file("service.sock"); }

    std::string node_command(const std::string& name, int priority, const PairSettings& s) const {
        return std::string(HA_PAIR) + " --name " + name + " --priority " + std::to_string(priority) + " --service " +
               service() + " --interval-ms 100 --dead-after " + std::to_string(s.dead_after);
    }

    // ha-1 (vm-1, the higher priority) active, ha-2 (vm-2) standing by, and
    // the client's first answer in.
    void start_pair(const PairSettings& s = {}) {
        ASSERT_TRUE(host.start({{"vm-1", {node_command("ha-1", 200, s)}}, {"vm-2", {node_command("ha-2", 100, s)}}}))
            << host.why() << host.diagnostics();
        ASSERT_TRUE(wait_for_text(node_log("vm-1"), "[active]: active (epoch 1)", 20s)) << logs();
        // ha-2 stands by either on hearing ha-1 active or on ha-1's higher
        // priority while both start: the words differ, "standing by" does not.
        ASSERT_TRUE(wait_for_text(node_log("vm-2"), "[standby]: ", 20s)) << logs();
        // ha-1 has heard ha-2 standing by: it would hand over, not just stop.
        ASSERT_TRUE(wait_for_text(node_log("vm-1"), "standby ready: ha-2", 20s)) << logs();
        client.start({HA_CLIENT, "--service", service(), "--rate", "100", "--resend-ms", "100", "--report-ms", "1000",
                      "--drain-ms", "20000", "--json"},
                     client_log());
        ASSERT_TRUE(wait_for_text(client_log(), "first answer, from ha-1", 20s)) << logs();
    }

    // Stops the client, which drains (resends what is unanswered), and
    // returns its summary.
    nlohmann::json finish_client() {
        client.signal(SIGTERM);
        auto status = client.wait(60s);
        EXPECT_TRUE(status.has_value()) << "ha_client did not finish\n" << logs();
        std::istringstream lines(read_file(client_log()));
        nlohmann::json summary;
        for (std::string line; std::getline(lines, line);)
            if (!line.empty() && line[0] == '{') summary = nlohmann::json::parse(line, nullptr, false);
        EXPECT_TRUE(summary.is_object()) << logs();
        if (status) {
            EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << logs();
        }
        return summary.is_object() ? summary : nlohmann::json::object();
    }

    // Every request answered exactly once, and by whom.
    void expect_exactly_once(const nlohmann::json& summary) {
        EXPECT_GT(summary.value("sent", 0), 0) << summary.dump();
        EXPECT_EQ(summary.value("lost", -1), 0) << summary.dump() << logs();
        EXPECT_EQ(summary.value("duplicated", -1), 0) << summary.dump() << logs();
        EXPECT_EQ(summary.value("answered", -1), summary.value("sent", 0)) << summary.dump();
    }

    void expect_served_by_both_in_order(const nlohmann::json& summary) {
        const auto& by_node = summary.value("by_node", nlohmann::json::object());
        EXPECT_GT(by_node.value("ha-1", 0), 0) << summary.dump();
        EXPECT_GT(by_node.value("ha-2", 0), 0) << summary.dump();
        const auto& switches = summary.value("switches", nlohmann::json::array());
        ASSERT_FALSE(switches.empty()) << summary.dump();
        EXPECT_EQ(switches[0].value("from", ""), "ha-1") << summary.dump();
        EXPECT_EQ(switches[0].value("to", ""), "ha-2") << summary.dump();
    }

    std::string logs() {
        return "---- ha-1 ----\n" + read_file(node_log("vm-1")) + "---- ha-2 ----\n" + read_file(node_log("vm-2")) +
               "---- client ----\n" + read_file(client_log());
    }

    void TearDown() override {
        if (HasFailure()) std::fprintf(stderr, "%s\n%s\n", logs().c_str(), host.diagnostics().c_str());
    }
};

}  // namespace

TEST_F(HaPair, LiveMigrationOfTheActiveIsVetoedUntilTheStandbyTookOverThenAccepted) {
    ASSERT_NO_FATAL_FAILURE(start_pair());
    int status = 0;
    std::string out = host.ctl({"action", "vm-1", "live-migrate"}, &status);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("rejected by ha-1: handing over to ha-2"), std::string::npos) << out;
    EXPECT_EQ(read_file(host.vm_dir("vm-1") + "/host-actions"), "") << "a vetoed migration was carried out";

    // vmhostd does not ask again after a veto: the operator (here, the test) does, once the handover is done.
    ASSERT_TRUE(wait_for_text(node_log("vm-1"), "handed over to ha-2", 20s)) << logs();
    EXPECT_TRUE(wait_for_text(node_log("vm-2"), "handover from ha-1", 1s)) << logs();
    out = host.ctl({"action", "vm-1", "live-migrate"}, &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(read_file(host.vm_dir("vm-1") + "/host-actions").find("live-migrate"), std::string::npos);
    ASSERT_TRUE(wait_for_text(client_log(), "answers now come from ha-2", 20s)) << logs();

    auto summary = finish_client();
    expect_exactly_once(summary);
    expect_served_by_both_in_order(summary);
}

TEST_F(HaPair, CrashOfTheActiveVmIsTakenOverOnTheHostsNotificationWithNothingLostOrAnsweredTwice) {
    // The standby's own detection is made slow (100 missed heartbeats): the
    // host's word, heartbeat_lost as soon as the VM's port closes, comes first.
    ASSERT_NO_FATAL_FAILURE(start_pair({.dead_after = 100}));
    ASSERT_EQ(host.simvm({"stop", host.root(), "vm-1"}), 0);  // kill -9 of every process of vm-1
    ASSERT_TRUE(wait_for_text(node_log("vm-2"), "the host reports heartbeat_lost for vm-1", 30s)) << logs();
    EXPECT_NE(read_file(node_log("vm-2")).find("[active]: active (epoch 2), was standby"), std::string::npos) << logs();
    ASSERT_TRUE(wait_for_text(client_log(), "answers now come from ha-2", 30s)) << logs();

    auto summary = finish_client();
    expect_exactly_once(summary);
    expect_served_by_both_in_order(summary);
}

TEST_F(HaPair, StopOfTheActiveIsVetoedUntilHandoverThenCarriedOut) {
    ASSERT_NO_FATAL_FAILURE(start_pair());
    int status = 0;
    std::string out = host.ctl({"action", "vm-1", "stop"}, &status);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("rejected by ha-1: handing over to ha-2"), std::string::npos) << out;
    ASSERT_TRUE(wait_for_text(node_log("vm-1"), "handed over to ha-2", 20s)) << logs();
    out = host.ctl({"action", "vm-1", "stop"}, &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(read_file(host.vm_dir("vm-1") + "/host-actions").find("stop"), std::string::npos);
    // The new active hears of it from the host, as a member notification.
    ASSERT_TRUE(wait_for_text(node_log("vm-2"), "host: vm-1 stop_end", 20s)) << logs();
    ASSERT_TRUE(wait_for_text(client_log(), "answers now come from ha-2", 20s)) << logs();

    auto summary = finish_client();
    expect_exactly_once(summary);
    expect_served_by_both_in_order(summary);
}

TEST_F(HaPair, FrozenActiveIsTakenOverOnTheHostsNotification) {
    // The standby's own detection is made slow (100 missed heartbeats), so
    // the host's word comes first: vmhostd declares the frozen VM's heartbeat
    // lost and reboots it, and tells the group.
    ASSERT_NO_FATAL_FAILURE(start_pair({.dead_after = 100}));
    ASSERT_EQ(host.simvm({"exec", host.root(), "vm-1", "pause"}), 0);  // SIGSTOP: the guest hangs
    ASSERT_TRUE(wait_for_text(node_log("vm-2"), "the host reports", 30s)) << logs();
    std::string log = read_file(node_log("vm-2"));
    EXPECT_TRUE(log.find("the host reports heartbeat_lost for vm-1") != std::string::npos ||
                log.find("the host reports reboot_begin for vm-1") != std::string::npos)
        << log;
    ASSERT_TRUE(wait_for_text(client_log(), "answers now come from ha-2", 30s)) << logs();
    // vm-1 comes back from the host's reboot and its node stands by.
    ASSERT_TRUE(wait_for_text(node_log("vm-1"), "ha-2 is active (epoch 2): standing by", 60s)) << logs();

    auto summary = finish_client();
    expect_exactly_once(summary);
    expect_served_by_both_in_order(summary);
}
