// One running vmhostd supervising "vm1", whose heartbeat socket is a FakeGuest
// and whose executor is a script appending "vm1 ACTION" to a marker file.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host_test_support.h"

namespace hosttest {

// Challenge interval the fake guest asks for: short for quick tests, long
// enough that a loaded machine does not delay an answer past it.
inline constexpr int64_t kIntervalMs = 400;
inline constexpr Millis kInterval{kIntervalMs};

class HostFixture : public ::testing::Test {
protected:
    void SetUp() override {
        guest = std::make_unique<FakeGuest>(dir.file("vm1.hb"));
        guest->listen();
        start_vmhostd(nlohmann::json{{"type", "command"}, {"argv", {marker_script(dir, marker())}}});
        ASSERT_TRUE(guest->accept()) << "vmhostd did not connect to the fake guest\n" << daemon.log();
    }
    void TearDown() override {
        if (daemon.running()) {
            EXPECT_EQ(daemon.stop(), 0) << daemon.log();
        }
        if (HasFailure()) std::fprintf(stderr, "---- vmhostd log ----\n%s\n", daemon.log().c_str());
    }

    void start_vmhostd(const nlohmann::json& executor) {
        nlohmann::json config = {
            {"control_socket", socket()},
            {"vms", {{{"name", "vm1"}, {"heartbeat", "unix:" + dir.file("vm1.hb")}, {"executor", executor}}}}};
        write_file(dir.file("vmhostd.json"), config.dump(2));
        ASSERT_TRUE(daemon.start(dir.file("vmhostd.json"), socket(), dir.file("vmhostd.log"))) << daemon.log();
    }

    std::string socket() const { return dir.file("control.sock"); }
    std::string marker() const { return dir.file("executor.marker"); }
    std::vector<std::string> marker_lines() const {
        std::vector<std::string> lines;
        std::string text = read_file(marker()), line;
        for (char c : text) {
            if (c == '\n') {
                lines.push_back(line);
                line.clear();
            } else {
                line += c;
            }
        }
        return lines;
    }

    // Runs vmhostctl; meanwhile the guest keeps answering challenges, so a
    // slow run (ASan, busy machine) never starves the heartbeat.
    CommandResult ctl(std::vector<std::string> args) {
        auto run = ctl_async(std::move(args));
        return pump(run);
    }
    CommandResult ctl_now(std::vector<std::string> args) {
        args.insert(args.begin(), {vmhostctl_path(), "--socket", socket()});
        return run_command(args);
    }
    // Waits for a background vmhostctl while the guest keeps answering challenges.
    CommandResult pump(std::future<CommandResult>& run) {
        while (run.wait_for(0s) != std::future_status::ready) {
            if (guest && guest->connected())
                guest->wait_for([](const hb::Message&) { return false; }, 20ms);
            else
                run.wait_for(20ms);
        }
        return run.get();
    }
    std::future<CommandResult> ctl_async(std::vector<std::string> args) {
        return std::async(std::launch::async, [this, args] { return ctl_now(args); });
    }
    // The event log through vmhostctl --json.
    nlohmann::json events(const std::string& vm = "vm1") {
        auto r = ctl({"--json", "events", vm, "--limit", "1000"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        return j.is_object() ? j["events"] : nlohmann::json::array();
    }
    std::vector<std::string> event_details(const std::string& kind) {
        std::vector<std::string> out;
        for (const auto& e : events())
            if (e["kind"] == kind) out.push_back(e["detail"].get<std::string>());
        return out;
    }
    nlohmann::json vm_status() {
        auto r = ctl({"--json", "list"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        return j.is_object() ? j["vms"][0] : nlohmann::json();
    }

    TempDir dir;
    VmhostdProcess daemon;
    std::unique_ptr<FakeGuest> guest;
};

}  // namespace hosttest
