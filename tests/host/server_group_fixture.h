// vmhostd with four VMs, each with a fake server-groupd on its messaging
// socket and a fake guest on its heartbeat socket:
//   group "g1": vm-1, vm-2, vm-3      group "g2": vm-3, vm-4
// The executor script appends "VM ACTION" to a marker file.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host_test_support.h"
#include "messaging_guest.h"

namespace hosttest {

class ServerGroupFixture : public ::testing::Test {
protected:
    static constexpr int kVms = 4;

    void SetUp() override {
        for (int i = 1; i <= kVms; ++i) {
            heartbeat.push_back(std::make_unique<FakeGuest>(dir.file(name(i) + ".hb")));
            heartbeat.back()->listen();
            messaging.push_back(std::make_unique<MessagingGuest>(dir.file(name(i) + ".msg")));
            messaging.back()->listen();
        }
        start_vmhostd();
        for (int i = 1; i <= kVms; ++i) {
            ASSERT_TRUE(heartbeat[i - 1]->accept()) << "vmhostd did not connect to " << name(i) << "\n" << daemon.log();
            ASSERT_TRUE(guest(i).accept(kPatience))
                << "vmhostd did not connect to " << name(i) << "'s messaging socket\n"
                << daemon.log();
        }
    }
    void TearDown() override {
        if (daemon.running()) {
            EXPECT_EQ(daemon.stop(), 0) << daemon.log();
        }
        if (HasFailure()) std::fprintf(stderr, "---- vmhostd log ----\n%s\n", daemon.log().c_str());
    }

    static std::string name(int i) { return "vm-" + std::to_string(i); }
    MessagingGuest& guest(int i) { return *messaging[i - 1]; }
    FakeGuest& hb_guest(int i) { return *heartbeat[i - 1]; }

    nlohmann::json config() const {
        nlohmann::json vms = nlohmann::json::array();
        for (int i = 1; i <= kVms; ++i)
            vms.push_back({{"name", name(i)},
                           {"heartbeat", "unix:" + dir.file(name(i) + ".hb")},
                           {"messaging", "unix:" + dir.file(name(i) + ".msg")},
                           {"executor", {{"type", "command"}, {"argv", {dir.file("executor.sh")}}}}});
        nlohmann::json c = {{"control_socket", socket()},
                            {"vms", vms},
                            {"server_groups",
                             {{{"name", "g1"}, {"members", {"vm-1", "vm-2", "vm-3"}}},
                              {{"name", "g2"}, {"members", {"vm-3", "vm-4"}}}}}};
        if (!messaging_limits.is_null()) c["messaging_limits"] = messaging_limits;
        for (int i = 0; i < extra_groups; ++i)
            c["server_groups"].push_back(
                {{"name", "many-" + std::to_string(i)}, {"members", {"vm-1", "vm-2", "vm-3", "vm-4"}}});
        return c;
    }
    void start_vmhostd() {
        marker_script(dir, dir.file("executor.marker"));
        write_file(dir.file("vmhostd.json"), config().dump(2));
        ASSERT_TRUE(daemon.start(dir.file("vmhostd.json"), socket(), dir.file("vmhostd.log"))) << daemon.log();
    }

    std::string socket() const { return dir.file("control.sock"); }
    CommandResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), {vmhostctl_path(), "--socket", socket()});
        return run_command(args);
    }
    nlohmann::json ctl_json(std::vector<std::string> args) {
        args.insert(args.begin(), "--json");
        auto r = ctl(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        return j.is_discarded() ? nlohmann::json() : j;
    }
    // The counters of one member as `vmhostctl group show GROUP --json` has them.
    nlohmann::json member_counters(const std::string& group, const std::string& vm) {
        auto g = ctl_json({"group", "show", group});
        if (!g.contains("members")) return {};
        for (const auto& m : g["members"])
            if (m["vm"] == vm) return m["counters"];
        return {};
    }

    // Set in a derived fixture's constructor.
    nlohmann::json messaging_limits;
    int extra_groups = 0;  // "many-N" groups of all four VMs
    TempDir dir;
    VmhostdProcess daemon;
    std::vector<std::unique_ptr<FakeGuest>> heartbeat;
    std::vector<std::unique_ptr<MessagingGuest>> messaging;
};

}  // namespace hosttest
