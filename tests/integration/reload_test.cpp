// guest-heartbeatd re-reads its configuration on SIGHUP (systemctl reload):
// what the host and the applications see afterwards.
#include <signal.h>

#include "guest_fixture.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

class ConfigReload : public GuestFixture {
protected:
    // The file as start_daemon() writes it, with other settings.
    void rewrite_config(const std::string& settings) {
        write_file(dir / "hb.conf", "INIT_DELAY_MS=0\nINIT_RETRY_MS=1000\n" + settings);
    }
    // Rewrites the file, signals the daemon and returns the init it sends
    // next (null if none comes).
    nlohmann::json reload_expecting_init(const std::string& settings) {
        rewrite_config(settings);
        daemon.signal(SIGHUP);
        auto init = host.receive_type("init", 5s);
        return init ? *init : nlohmann::json();
    }
    // Acknowledges an init as the host does.
    void acknowledge(const nlohmann::json& init) {
        auto ack = message("init_ack");
        ack["invocation_id"] = init["invocation_id"];
        ack["extensions"] = {"applications"};
        host.send(ack);
    }
};

TEST_F(ConfigReload, ChangedHostSettingsAreAnnouncedInANewInit) {
    start_daemon();
    ASSERT_TRUE(handshake());
    auto before = challenge();
    ASSERT_TRUE(is_healthy(before));
    ASSERT_EQ(before["corrective_action"], "reboot");

    auto init = reload_expecting_init("HB_INTERVAL=300\nCORRECTIVE_ACTION=stop\nVOTE=7\n");
    ASSERT_FALSE(init.is_null()) << read_file(daemon_log());
    EXPECT_EQ(init["heartbeat_interval_ms"], 300);
    EXPECT_EQ(init["corrective_action"], "stop");
    EXPECT_EQ(init["vote_secs"], 8);  // announced with the 1 s allowance
    EXPECT_EQ(init["name"], "test-vm");
    EXPECT_TRUE(wait_for_text(daemon_log(), "reloaded " + (dir / "hb.conf"), 1s));
    acknowledge(init);
    auto after = challenge();
    ASSERT_TRUE(is_healthy(after)) << after.dump();
    EXPECT_EQ(after["corrective_action"], "stop");
}

// A reload asked for while the daemon was still starting (here: pending
// when it began) is served once its watch is in place, and it still serves.
TEST_F(ConfigReload, AReloadAskedDuringStartUpIsServedOnceTheDaemonWatchesForIt) {
    daemon.start_with_pending({SIGHUP});
    start_daemon();
    ASSERT_TRUE(wait_for_text(daemon_log(), "reloaded " + (dir / "hb.conf"), 5s)) << read_file(daemon_log());
    ASSERT_TRUE(handshake());
    ASSERT_TRUE(is_healthy(challenge()));
}

TEST_F(ConfigReload, AFileWithAProblemIsRefusedWhole) {
    start_daemon();
    ASSERT_TRUE(handshake());
    ASSERT_TRUE(is_healthy(challenge()));

    rewrite_config("HB_INTERVAL=300\nCORRECTIVE_ACTION=stop\nHB_INTERVALL=400\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_text(daemon_log(), "HB_INTERVALL", 5s)) << read_file(daemon_log());
    ASSERT_TRUE(wait_for_text(daemon_log(), "refused; the running configuration stays", 1s));
    auto r = challenge();
    ASSERT_TRUE(is_healthy(r));
    EXPECT_EQ(r["corrective_action"], "reboot");

    // A later good file applies over the start settings, not over the refused one.
    auto init = reload_expecting_init("VOTE=7\n");
    ASSERT_FALSE(init.is_null()) << read_file(daemon_log());
    EXPECT_EQ(init["vote_secs"], 8);
    EXPECT_EQ(init["heartbeat_interval_ms"], 1000);  // the default: the file no longer sets it
    EXPECT_EQ(init["corrective_action"], "reboot");
}

TEST_F(ConfigReload, AHealthScriptAddedOrRemovedTakesEffect) {
    // No repeat window: a failing script is reported on every challenge, so
    // healthy answers below come from the script's removal.
    extra_config = "SUPPRESS_REPEAT_SECS=0\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    ASSERT_TRUE(is_healthy(challenge()));
    std::string script = dir / "health.sh";
    write_file(script, "#!/bin/sh\necho 'disk full'\nexit 1\n", true);
    const std::string same =
        "HB_INTERVAL=" + std::to_string(interval_ms) + "\nCORRECTIVE_ACTION=reboot\nVOTE=3\nSUPPRESS_REPEAT_SECS=0\n";

    rewrite_config(same + "HEALTH_CHECK_SCRIPT=" + script + "\nHEALTH_CHECK_INTERVAL=1\n");
    daemon.signal(SIGHUP);
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_NE(r["log_msg"].get<std::string>().find("disk full"), std::string::npos) << r.dump();
    ASSERT_TRUE(is_unhealthy(challenge()));

    rewrite_config(same);
    daemon.signal(SIGHUP);
    EXPECT_FALSE(challenge_until(is_healthy).is_null()) << read_file(daemon_log());
}

TEST_F(ConfigReload, WhoMayRegisterChangesAtRestartOnly) {
    start_daemon();
    ASSERT_TRUE(handshake());
    rewrite_config("HB_INTERVAL=" + std::to_string(interval_ms) + "\nVOTE=3\nALLOWED_UIDS=64103\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_text(daemon_log(), "change at restart only; the running values stay", 5s))
        << read_file(daemon_log());
    EXPECT_TRUE(wait_for_text(daemon_log(), "reloaded " + (dir / "hb.conf"), 1s));
    // The daemon still answers, as root's registrations still may.
    start_legacy_app("vnf-a", 200);
    EXPECT_TRUE(wait_for_text(app_log("vnf-a"), "registered with the heartbeat daemon", 10s));
}

}  // namespace
