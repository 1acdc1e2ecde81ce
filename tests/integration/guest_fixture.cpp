#include "guest_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <thread>

namespace gsdk::test {

using namespace std::chrono;

void GuestFixture::start_daemon() {
    write_file(dir / "hb.conf", "HB_INTERVAL=" + std::to_string(interval_ms) +
                                    "\nCORRECTIVE_ACTION=reboot\nVOTE=3\nINIT_DELAY_MS=0\nINIT_RETRY_MS=1000\n" +
                                    extra_config);
    std::vector<std::string> argv = daemon_prefix;
    for (std::string a :
         {std::string(GUEST_HEARTBEATD), std::string("--listen"), "unix:" + (dir / "hb.sock"), std::string("--config"),
          dir / "hb.conf", std::string("--socket-dir"), dir.path(), std::string("--legacy-socket"), legacy_socket(),
          std::string("--name"), std::string("test-vm"), std::string("--log-level"), std::string("debug")})
        argv.push_back(a);
    daemon.start(argv, daemon_log());
    ASSERT_TRUE(wait_for_path(dir / "heartbeat.sock", 5s)) << read_file(daemon_log());
}

bool GuestFixture::handshake(const std::vector<std::string>& extensions) {
    if (!host.connect(dir / "hb.sock")) return false;
    auto init = host.receive_type("init", 5s);
    if (!init) return false;
    auto ack = message("init_ack");
    ack["invocation_id"] = (*init)["invocation_id"];
    ack["extensions"] = extensions;
    host.send(ack);
    return true;
}

nlohmann::json GuestFixture::message(const std::string& type) {
    return {{"version", 3}, {"revision", 1}, {"msg_type", type}, {"sequence", ++seq}};
}

nlohmann::json GuestFixture::challenge(milliseconds timeout) {
    auto c = message("challenge");
    c["heartbeat_challenge"] = seq * 1000 + 7;
    host.send(c);
    auto end = steady_clock::now() + timeout;
    for (;;) {
        auto left = duration_cast<milliseconds>(end - steady_clock::now());
        if (left.count() <= 0) return nullptr;
        auto r = host.receive_type("challenge_response", left);
        if (!r) return nullptr;
        if ((*r)["heartbeat_response"] == c["heartbeat_challenge"]) return *r;
    }
}

void GuestFixture::send_action(int64_t invocation_id, const std::string& event, const std::string& type,
                               int timeout_ms) {
    auto n = message("action_notify");
    n["invocation_id"] = invocation_id;
    n["event_type"] = event;
    n["notification_type"] = type;
    n["timeout_ms"] = timeout_ms;
    host.send(n);
}

nlohmann::json GuestFixture::action(const std::string& event, const std::string& type, int timeout_ms,
                                    milliseconds wait) {
    int64_t id = 500 + seq;
    send_action(id, event, type, timeout_ms);
    auto end = steady_clock::now() + wait;
    for (;;) {
        auto left = duration_cast<milliseconds>(end - steady_clock::now());
        if (left.count() <= 0) return nullptr;
        auto r = host.receive_type("action_response", left);
        if (!r) return nullptr;
        if ((*r)["invocation_id"] == id) return *r;
    }
}

Subprocess& GuestFixture::start_legacy_app(const std::string& name, int app_interval_ms, const std::string& action,
                                           const std::vector<std::string>& extra,
                                           const std::vector<std::string>& extra_env) {
    ::mkdir(state_dir(name).c_str(), 0755);
    std::vector<std::string> argv = {
        VNF_LEGACY,    "--name", name,          "--interval",   std::to_string(app_interval_ms), "--action", action,
        "--vote-secs", "2",      "--state-dir", state_dir(name)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    apps.push_back(std::make_unique<Subprocess>());
    std::vector<std::string> env = {"GUEST_HEARTBEAT_SOCKET=" + (dir / "heartbeat.sock")};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    apps.back()->start(argv, app_log(name), env);
    return *apps.back();
}

Subprocess& GuestFixture::start_modern_apps(const std::string& name, int count, int app_interval_ms) {
    apps.push_back(std::make_unique<Subprocess>());
    apps.back()->start({VNF_MODERN, "--name", name, "--count", std::to_string(count), "--interval",
                        std::to_string(app_interval_ms), "--quiet", "--socket", dir / "heartbeat.sock"},
                       app_log(name));
    return *apps.back();
}

void GuestFixture::flag(const std::string& app, const std::string& name, const std::string& content) {
    write_file(state_dir(app) + "/" + name, content);
}

void GuestFixture::unflag(const std::string& app, const std::string& name) {
    ::unlink((state_dir(app) + "/" + name).c_str());
}

void GuestFixture::TearDown() {
    for (auto& a : apps) a->stop(milliseconds(2000));
    daemon.stop();
    if (HasFailure()) {
        std::fprintf(stderr, "---- daemon log ----\n%s\n", read_file(daemon_log()).c_str());
    }
}

}  // namespace gsdk::test
