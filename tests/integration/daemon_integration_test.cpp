// guest-heartbeatd with real example applications, this test as the host.
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "guest_fixture.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

class DaemonIntegration : public GuestFixture {};

}  // namespace

TEST_F(DaemonIntegration, ApplicationRegistersAndTheGuestAnswersChallengesHealthy) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 200);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with the heartbeat daemon", 10s));
    auto r = challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); });
    ASSERT_FALSE(r.is_null());
    EXPECT_TRUE(is_healthy(r));
    EXPECT_EQ(r["corrective_action"], "reboot");
    EXPECT_EQ(r["log_msg"], "");
    EXPECT_TRUE(wait_for_text(app_log("vnf-a"), "health check #3 -> healthy", 10s));
}

TEST_F(DaemonIntegration, RegistrationWithAnIntervalBelowTheMinimumIsRejected) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("too-fast", 50);
    ASSERT_TRUE(wait_for_text(daemon_log(), "registration of too-fast", 10s));
    EXPECT_TRUE(wait_for_text(daemon_log(), "heartbeat interval 50 ms is below the minimum 100 ms", 1s));
    EXPECT_TRUE(wait_for_text(app_log("too-fast"), "not registered", 5s));
    auto r = challenge();
    EXPECT_TRUE(is_healthy(r));
}

TEST_F(DaemonIntegration, UnhealthyApplicationReportsItsOwnCorrectiveAction) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 200, "stop");
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    flag("vnf-a", "unhealthy", "disk full");
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["corrective_action"], "stop");
    EXPECT_NE(r["log_msg"].get<std::string>().find("vnf-a: disk full"), std::string::npos) << r.dump();
}

TEST_F(DaemonIntegration, HungApplicationIsReportedOnceWithItsActionThenSuppressed) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 200, "reboot");
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    ASSERT_FALSE(challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); }).is_null());
    flag("vnf-a", "hang");
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["corrective_action"], "reboot");
    EXPECT_NE(r["log_msg"].get<std::string>().find("vnf-a: not answering health checks (hung)"), std::string::npos);
    EXPECT_TRUE(wait_for_text(daemon_log(), "vnf-a (pid", 1s));
    // The same failure is not re-reported within the 60 s window, and the
    // guest never claims health while it lasts: unhealthy, action none, the
    // same log_msg (as the original daemon answers).
    for (int i = 0; i < 3; ++i) {
        auto next = challenge();
        EXPECT_TRUE(is_unhealthy(next)) << "round " << i << ": " << next.dump();
        EXPECT_EQ(next["corrective_action"], "none") << next.dump();
        EXPECT_EQ(next["log_msg"], r["log_msg"]) << next.dump();
    }
    // Answering again ends it.
    unflag("vnf-a", "hang");
    EXPECT_FALSE(challenge_until(is_healthy).is_null());
}

// The daemon itself not scheduled for a while (a loaded guest, a stolen
// vCPU): its challenges went out late, so nobody was late to answer them,
// and the host is not told of a hang (which it would act on, and which the
// guest would then keep reporting for a minute).
TEST_F(DaemonIntegration, TheDaemonsOwnStallIsNotCountedAgainstItsApplications) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_modern_apps("slot", 4, 100);  // answering through their slots
    start_legacy_app("vnf-a", 100);     // answering by message
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    auto counted = [](const nlohmann::json& r) { return r.contains("applications") ? r["applications"].size() : 0u; };
    ASSERT_FALSE(challenge_until([&](const auto& r) { return counted(r) == 5 && is_healthy(r); }).is_null());
    for (int stall = 0; stall < 3; ++stall) {
        daemon.signal(SIGSTOP);
        std::this_thread::sleep_for(700ms);  // seven of the applications' intervals
        daemon.signal(SIGCONT);
        for (int i = 0; i < 3; ++i) {
            auto next = challenge();
            EXPECT_TRUE(is_healthy(next)) << "stall " << stall << ", challenge " << i << ": " << next.dump();
        }
    }
    EXPECT_EQ(read_file(daemon_log()).find("hung"), std::string::npos) << read_file(daemon_log());
}

TEST_F(DaemonIntegration, AStopFailureAndALogFailureReportStopThenNoneNeverHealthy) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-stop", 200, "stop");
    start_legacy_app("vnf-log", 200, "log");
    ASSERT_TRUE(wait_for_text(app_log("vnf-stop"), "registered with", 10s));
    ASSERT_TRUE(wait_for_text(app_log("vnf-log"), "registered with", 10s));
    flag("vnf-stop", "unhealthy", "stop me");
    flag("vnf-log", "unhealthy", "log me");
    ASSERT_TRUE(wait_for_text(app_log("vnf-stop"), "-> unhealthy", 5s));
    ASSERT_TRUE(wait_for_text(app_log("vnf-log"), "-> unhealthy", 5s));
    std::this_thread::sleep_for(300ms);  // both answers reach the daemon
    auto r = challenge();
    ASSERT_TRUE(is_unhealthy(r)) << r.dump();
    EXPECT_EQ(r["corrective_action"], "stop") << r.dump();
    EXPECT_NE(r["log_msg"].get<std::string>().find("vnf-stop: stop me"), std::string::npos) << r.dump();
    EXPECT_NE(r["log_msg"].get<std::string>().find("vnf-log: log me"), std::string::npos) << r.dump();
    for (int i = 0; i < 3; ++i) {
        auto next = challenge();
        EXPECT_TRUE(is_unhealthy(next)) << next.dump();
        EXPECT_EQ(next["corrective_action"], "none") << next.dump();
        EXPECT_EQ(next["log_msg"], r["log_msg"]) << next.dump();
    }
}

TEST_F(DaemonIntegration, AHangThenAKillOfTheSameApplicationIsReportedOnce) {
    start_daemon();
    ASSERT_TRUE(handshake());
    Subprocess& app = start_legacy_app("vnf-a", 200, "reboot");
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    ASSERT_FALSE(challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); }).is_null());
    flag("vnf-a", "hang");
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["corrective_action"], "reboot");
    app.signal(SIGKILL);
    ASSERT_TRUE(wait_for_text(daemon_log(), "disconnected without deregistering", 5s));
    bool saw_exit = false;
    for (int i = 0; i < 4; ++i) {
        auto next = challenge();
        EXPECT_TRUE(is_unhealthy(next)) << next.dump();
        EXPECT_EQ(next["corrective_action"], "none") << next.dump();  // not a second reboot
        saw_exit = saw_exit ||
                   next["log_msg"].get<std::string>().find("vnf-a: exited without deregistering") != std::string::npos;
    }
    EXPECT_TRUE(saw_exit);  // the death is not lost
}

TEST_F(DaemonIntegration, KilledApplicationIsAFailureWithItsCorrectiveAction) {
    start_daemon();
    ASSERT_TRUE(handshake());
    Subprocess& app = start_legacy_app("vnf-a", 200, "stop");
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    ASSERT_TRUE(is_healthy(challenge()));
    app.signal(SIGKILL);
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["corrective_action"], "stop");
    EXPECT_NE(r["log_msg"].get<std::string>().find("vnf-a: exited without deregistering"), std::string::npos);
    EXPECT_TRUE(lists_application(r, "vnf-a", "failed")) << r.dump();
    // Reported once with its action; while remembered, still unhealthy with
    // action none. The application coming back ends it.
    auto next = challenge();
    EXPECT_TRUE(is_unhealthy(next)) << next.dump();
    EXPECT_EQ(next["corrective_action"], "none");
    start_legacy_app("vnf-a", 200, "stop");
    EXPECT_FALSE(challenge_until(is_healthy).is_null());
}

TEST_F(DaemonIntegration, TheFailureOfADepartedApplicationExpires) {
    extra_config = "FAILURE_RETENTION_SECS=1\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    Subprocess& app = start_legacy_app("vnf-a", 200, "log");
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    app.signal(SIGKILL);
    ASSERT_FALSE(challenge_until(is_unhealthy).is_null());
    auto r = challenge_until(is_healthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_FALSE(r.contains("applications") && r["applications"].contains("vnf-a")) << r.dump();
}

TEST_F(DaemonIntegration, AnEventScriptThatOverrunsIsSilenceNotAnError) {
    write_file(dir / "slow.sh", "#!/bin/sh\nexec sleep 30\n", true);
    extra_config = "EVENT_NOTIFICATION_SCRIPT=" + (dir / "slow.sh") + "\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    auto vote = action("stop", "revocable", 2500);
    ASSERT_FALSE(vote.is_null());
    EXPECT_EQ(vote["vote_result"], "accept") << vote.dump();
    auto note = action("live_migrate_end", "irrevocable", 2500);
    ASSERT_FALSE(note.is_null());
    EXPECT_EQ(note["vote_result"], "complete") << note.dump();
    EXPECT_TRUE(wait_for_text(daemon_log(), "event script overran", 1s)) << read_file(daemon_log());
}

TEST_F(DaemonIntegration, CleanExitIsNotAFailure) {
    start_daemon();
    ASSERT_TRUE(handshake());
    Subprocess& app = start_legacy_app("vnf-a", 200);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    app.stop();
    ASSERT_TRUE(wait_for_text(daemon_log(), "vnf-a (pid", 5s));
    ASSERT_TRUE(wait_for_text(daemon_log(), "deregistered", 5s));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(is_healthy(challenge()));
}

TEST_F(DaemonIntegration, OneRejectVetoesAVoteAndNamesTheApplication) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 500);
    start_legacy_app("vnf-b", 500);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    ASSERT_TRUE(wait_for_text(app_log("vnf-b"), "registered with", 10s));
    flag("vnf-b", "reject-stop", "active calls");
    auto r = action("stop", "revocable", 5000);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["vote_result"], "reject");
    EXPECT_EQ(r["event_type"], "stop");
    EXPECT_EQ(r["notification_type"], "revocable");
    EXPECT_EQ(r["log_msg"], "rejected by vnf-b: active calls");
}

TEST_F(DaemonIntegration, EveryoneAcceptingIsAcceptBeforeTheDeadline) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 500);
    start_legacy_app("vnf-b", 500);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    ASSERT_TRUE(wait_for_text(app_log("vnf-b"), "registered with", 10s));
    auto t0 = std::chrono::steady_clock::now();
    auto r = action("live_migrate_begin", "revocable", 20000);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["vote_result"], "accept");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);  // decided by the answers, not the 19 s deadline
    EXPECT_TRUE(wait_for_text(app_log("vnf-a"), "vote on live_migrate_begin", 1s));
}

TEST_F(DaemonIntegration, SilenceUntilTheDeadlineCountsAsAccept) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 2000);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    flag("vnf-a", "hang");  // keeps its connection, answers nothing
    std::this_thread::sleep_for(1500ms);
    auto t0 = std::chrono::steady_clock::now();
    auto r = action("pause", "revocable", 2500);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["vote_result"], "accept");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1400ms);  // waited for the deadline (2.5 s - 1 s)
    EXPECT_TRUE(wait_for_text(daemon_log(), "1 silent", 1s));
}

TEST_F(DaemonIntegration, NotificationIsCompleteWhenAnsweredOrAtItsDeadline) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 2000);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    auto r = action("stop", "irrevocable", 8000);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["vote_result"], "complete");
    EXPECT_EQ(r["notification_type"], "irrevocable");
    EXPECT_TRUE(wait_for_text(app_log("vnf-a"), "notification of stop", 1s));

    flag("vnf-a", "hang");
    std::this_thread::sleep_for(1500ms);
    auto t0 = std::chrono::steady_clock::now();
    r = action("live_migrate_end", "irrevocable", 2500);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["vote_result"], "complete");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1400ms);
}

TEST_F(DaemonIntegration, ANewActionAbortsTheOneInProgress) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 2000);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    flag("vnf-a", "hang");
    std::this_thread::sleep_for(1500ms);
    send_action(1, "stop", "revocable", 8000);
    std::this_thread::sleep_for(200ms);
    auto r = action("pause", "revocable", 1500);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["event_type"], "pause");
    EXPECT_TRUE(wait_for_text(daemon_log(), "aborts stop revocable", 1s));
    // The aborted stop vote is never answered.
    auto late = host.receive_type("action_response", 2000ms);
    EXPECT_FALSE(late) << late->dump();
}

TEST_F(DaemonIntegration, HostDisconnectInTheMiddleOfAVoteThenReconnect) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 2000);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    flag("vnf-a", "hang");
    std::this_thread::sleep_for(1500ms);
    send_action(4242, "stop", "revocable", 6000);
    std::this_thread::sleep_for(300ms);
    host.close();
    ASSERT_TRUE(wait_for_text(daemon_log(), "host went away during stop revocable", 5s));

    unflag("vnf-a", "hang");
    ASSERT_TRUE(handshake());  // the daemon initialises again on the new connection
    flag("vnf-a", "reject-reboot", "busy");
    auto r = action("reboot", "revocable", 5000);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["vote_result"], "reject");
    for (const auto& line : host.transcript()) EXPECT_EQ(line.find("4242"), std::string::npos) << line;
    EXPECT_TRUE(daemon.running());
}

TEST_F(DaemonIntegration, DaemonRestartApplicationsRegisterAgainWithoutAFalseFailure) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 200);
    ASSERT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
    ASSERT_FALSE(challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); }).is_null());

    daemon.signal(SIGTERM);
    auto bye = host.receive_type("exit", 5s);
    ASSERT_TRUE(bye);  // a graceful goodbye: the host declares no heartbeat loss
    ASSERT_TRUE(daemon.wait(5s));
    host.close();

    start_daemon();
    ASSERT_TRUE(handshake());
    auto r = challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); });
    ASSERT_FALSE(r.is_null());
    for (const auto& line : host.transcript()) EXPECT_EQ(line.find("unhealthy"), std::string::npos) << line;
    EXPECT_TRUE(apps[0]->running());
}

TEST_F(DaemonIntegration, MalformedAndOversizedHostLinesAreLoggedAndIgnored) {
    start_daemon();
    ASSERT_TRUE(handshake());
    host.send_raw("\nthis is not json\n");
    host.send_raw("\n[1,2,3]\n");
    host.send_raw("\n" + std::string(300 * 1024, 'x') + "\n");
    host.send_raw(
        "\n{\"version\":2,\"revision\":1,\"msg_type\":\"challenge\",\"sequence\":1,\"heartbeat_challenge\":1}\n");
    host.send_raw("\n{\"version\":3,\"revision\":1,\"msg_type\":\"frobnicate\",\"sequence\":1}\n");
    host.send_raw(
        "\n{\"version\":3,\"revision\":1,\"msg_type\":\"challenge\",\"sequence\":1,\"heartbeat_challenge\":\"x\"}\n");
    host.send_raw("\n{\"version\":3,\"msg_type\":\"action_notify\"}\n");
    auto r = challenge();
    ASSERT_FALSE(r.is_null());
    EXPECT_TRUE(is_healthy(r));
    std::string log = read_file(daemon_log());
    EXPECT_NE(log.find("not valid JSON"), std::string::npos);
    EXPECT_NE(log.find("JSON value is not an object"), std::string::npos);
    EXPECT_NE(log.find("oversized line of 307200 bytes"), std::string::npos);
    EXPECT_NE(log.find("version 2 < 3"), std::string::npos);
    EXPECT_NE(log.find("unknown msg_type \"frobnicate\""), std::string::npos);
    EXPECT_NE(log.find("heartbeat_challenge is not an integer"), std::string::npos);
    EXPECT_TRUE(daemon.running());
}

TEST_F(DaemonIntegration, ThousandAndTwentyFourApplications) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_modern_apps("bulk", 1024, 1000);
    auto r = challenge_until(
        [](const auto& r) {
            // Listed within the line budget; the rest counted.
            if (!r.contains("applications") ||
                r["applications"].size() + static_cast<std::size_t>(r.value("applications_omitted", 0)) != 1024)
                return false;
            for (const auto& [name, state] : r["applications"].items())
                if (state != "healthy") return false;
            return true;
        },
        150);
    ASSERT_FALSE(r.is_null()) << read_file(app_log("bulk")).substr(0, 2000);
    EXPECT_TRUE(is_healthy(r));
    // Steady state: every application keeps answering.
    for (int i = 0; i < 5; ++i) {
        auto next = challenge();
        EXPECT_TRUE(is_healthy(next)) << next.dump().substr(0, 500);
        std::this_thread::sleep_for(200ms);
    }
    auto vote = action("pause", "revocable", 10000);
    ASSERT_FALSE(vote.is_null());
    EXPECT_EQ(vote["vote_result"], "accept");
}

class HeldChallenges : public GuestFixture {
protected:
    // Sends a challenge, turns vnf-a unhealthy while the guest may still be
    // holding it, and returns the answer to that challenge.
    nlohmann::json answer_when_health_changes_after_the_challenge() {
        start_legacy_app("vnf-a", 200);
        EXPECT_TRUE(wait_for_text(app_log("vnf-a"), "registered with", 10s));
        EXPECT_TRUE(is_healthy(challenge()));
        auto c = message("challenge");
        c["heartbeat_challenge"] = 424242;
        host.send(c);
        std::this_thread::sleep_for(100ms);
        flag("vnf-a", "unhealthy", "lost its database");
        auto r = host.receive_type("challenge_response", 5s);
        EXPECT_TRUE(r);
        if (!r) return nullptr;
        EXPECT_EQ((*r)["heartbeat_response"], 424242);
        return *r;
    }
};

TEST_F(HeldChallenges, AHostOfferingHeldChallengesHearsOfAFailureInTheAnswerItIsWaitingFor) {
    interval_ms = 3000;
    extra_config = "CHALLENGE_HOLD_PERCENT=75\n";
    start_daemon();
    ASSERT_TRUE(handshake({"applications", "held_challenges"}));
    auto r = answer_when_health_changes_after_the_challenge();
    EXPECT_TRUE(is_unhealthy(r)) << r.dump();
    EXPECT_NE(r.value("log_msg", "").find("vnf-a: lost its database"), std::string::npos) << r.dump();
}

TEST_F(HeldChallenges, ALegacyHostIsAnsweredAtOnce) {
    interval_ms = 3000;
    extra_config = "CHALLENGE_HOLD_PERCENT=75\n";
    start_daemon();
    ASSERT_TRUE(handshake({"applications"}));
    auto r = answer_when_health_changes_after_the_challenge();
    EXPECT_TRUE(is_healthy(r)) << r.dump();
}
