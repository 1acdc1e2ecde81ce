// A real guest-heartbeatd with this test playing its host over the --listen
// socket, plus helpers to run the example VNFs against it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_process.h"

namespace gsdk::test {

class GuestFixture : public ::testing::Test {
protected:
    TempDir dir;
    Subprocess daemon;
    JsonLinePeer host;
    int64_t seq = 0;
    int interval_ms = 200;
    std::string extra_config;
    // Runs the daemon under these first (e.g. prlimit).
    std::vector<std::string> daemon_prefix;
    std::vector<std::unique_ptr<Subprocess>> apps;

    std::string daemon_log() const { return dir / "daemon.log"; }
    // Where binaries bundling the original library connect.
    std::string legacy_socket() const { return dir / "legacy.sock"; }
    std::string state_dir(const std::string& app) const { return dir / ("state-" + app); }
    std::string app_log(const std::string& app) const { return dir / (app + ".log"); }

    void start_daemon();
    // Connects as the host, answers init with init_ack (advertising the
    // applications extension). Returns false if no init came.
    bool handshake(const std::vector<std::string>& extensions = {"applications"});
    nlohmann::json message(const std::string& type);
    // One challenge; the response or null.
    nlohmann::json challenge(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
    // Challenges at the interval until pred(response) holds.
    template <typename Pred>
    nlohmann::json challenge_until(Pred pred, int rounds = 50);
    // Sends an action_notify and returns at once.
    void send_action(int64_t invocation_id, const std::string& event, const std::string& type, int timeout_ms);
    // Sends an action_notify; returns the action_response.
    nlohmann::json action(const std::string& event, const std::string& type, int timeout_ms,
                          std::chrono::milliseconds wait = std::chrono::milliseconds(10000));
    Subprocess& start_legacy_app(const std::string& name, int interval_ms, const std::string& action = "reboot",
                                 const std::vector<std::string>& extra = {},
                                 const std::vector<std::string>& extra_env = {});
    Subprocess& start_modern_apps(const std::string& name, int count, int interval_ms);
    void flag(const std::string& app, const std::string& name, const std::string& content = "");
    void unflag(const std::string& app, const std::string& name);

    void TearDown() override;
};

template <typename Pred>
nlohmann::json GuestFixture::challenge_until(Pred pred, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        auto start = std::chrono::steady_clock::now();
        nlohmann::json r = challenge();
        if (!r.is_null() && pred(r)) return r;
        std::this_thread::sleep_until(start + std::chrono::milliseconds(interval_ms));
    }
    return nullptr;
}

inline bool is_healthy(const nlohmann::json& r) { return r.value("heartbeat_health", "") == "healthy"; }
inline bool is_unhealthy(const nlohmann::json& r) { return r.value("heartbeat_health", "") == "unhealthy"; }
// The applications extension lists `name` in `state`.
inline bool lists_application(const nlohmann::json& r, const std::string& name, const std::string& state) {
    return r.contains("applications") && r["applications"].contains(name) && r["applications"][name] == state;
}

}  // namespace gsdk::test
