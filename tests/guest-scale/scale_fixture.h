// guest-scaled under test: a fake sysfs CPU tree (cpu0..cpuN, cpu0 without an
// `online` file, as on x86), the real daemon, and either this test playing
// server-groupd's local-service side (FakeRelay) or the real server-groupd
// with this test playing the host on its messaging socket.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "test_process.h"

namespace gsdk::test {

using namespace std::chrono_literals;
using nlohmann::json;

// Generous: the machine is shared and the ASan build is slow.
inline constexpr std::chrono::milliseconds kPatience = 20s;

class FakeCpuTree {
public:
    // cpu0..cpu(count-1) under root/devices/system/cpu; `offline` start offline.
    FakeCpuTree(std::string root, unsigned count, const std::set<unsigned>& offline = {});
    const std::string& root() const { return root_; }
    std::string cpu_dir(unsigned cpu) const;
    std::string online_file(unsigned cpu) const { return cpu_dir(cpu) + "/online"; }
    void set(unsigned cpu, bool online);
    bool online(unsigned cpu) const;
    std::vector<unsigned> online_list(unsigned count) const;
    // A CPU the host has just plugged: its directory appears, offline.
    void plug(unsigned cpu);

private:
    std::string root_;
};

// server-groupd's service socket as guest-scaled sees it, played by the test.
class FakeRelay {
public:
    explicit FakeRelay(std::string path);
    ~FakeRelay();
    const std::string& path() const { return path_; }
    // Accepts guest-scaled, reads its Claim of cgcs.scale and accepts it.
    bool accept_claim(std::chrono::milliseconds timeout = kPatience);
    void deliver(const std::string& source_addr, const std::string& data_json);
    // The next Send: (dest_addr, data).
    std::optional<std::pair<std::string, json>> next_send(std::chrono::milliseconds timeout = kPatience);
    bool connected() const { return conn_ >= 0; }
    void drop();  // closes the connection (server-groupd went away)

private:
    std::string path_;
    int listen_fd_ = -1;
    int conn_ = -1;
};

class GuestScaleTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    // Starts guest-scaled against the tree and the fake relay, waits for its claim.
    void start_daemon(const std::vector<std::string>& extra = {});
    void start_daemon_as(const Identity& who, const std::vector<std::string>& extra = {});
    void stop_daemon();
    std::string log() const { return read_file(dir / "guest-scaled.log"); }
    int log_count(const std::string& text) const;

    // One request from the host through the fake relay; the response's data
    // (checked to be addressed to `source`).
    json ask(const json& request, const std::string& source = "scale-00000001");
    static json down(int64_t timeout_ms = 9000);
    static json up(unsigned cpu, const std::vector<unsigned>& online, int64_t timeout_ms = 9000);
    // A helper script in the test dir with this body (after #!/bin/sh).
    std::string helper(const std::string& body);
    std::string subscriber_socket() const { return dir / "run/scale.sock"; }

    TempDir dir;
    std::unique_ptr<FakeCpuTree> tree;
    std::unique_ptr<FakeRelay> relay;
    Subprocess daemon;
    unsigned cpus = 4;
    std::set<unsigned> offline_at_start;
    std::string state_file;
    // Lines for the daemon's config file (access keys): none by default.
    std::string extra_config;
};

std::string guest_scaled_path();
std::string server_groupd_path();

}  // namespace gsdk::test
