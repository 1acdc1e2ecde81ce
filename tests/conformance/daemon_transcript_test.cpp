// (d) The real guest-heartbeatd, driven by a scripted host over its --listen
// socket: every line it writes (init, challenge_response healthy and
// unhealthy, action_response with each vote result, exit) must be framed
// "\n{...}\n", satisfy the protocol schema, and have the keys and value types
// of the reference guest's line of that type. The host side writes in the
// reference host's framing ("{...}\n", in pieces) to check the daemon reads it.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <thread>

#include "heartbeat_schema.h"
#include "sender_framing.h"
#include "test_process.h"
#include "transcript.h"

using namespace gsdk::test;
using namespace std::chrono_literals;
using conformance::heartbeat::Direction;
using conformance::heartbeat::Extensions;
using Clock = std::chrono::steady_clock;

namespace {

nlohmann::json host_message(const char* type, int64_t sequence, nlohmann::json body = nlohmann::json::object()) {
    body["version"] = 3;
    body["revision"] = 1;
    body["msg_type"] = type;
    body["sequence"] = sequence;
    return body;
}

class DaemonTranscript : public testing::Test {
protected:
    TempDir dir;
    Subprocess daemon;
    JsonLinePeer host;
    Extensions offered = Extensions::None;
    int64_t host_sequence = 0;

    void start(const std::string& extra_config = "") {
        write_file(dir / "hb.conf",
                   "HB_INTERVAL=1000\nCORRECTIVE_ACTION=reboot\nVOTE=10\nSHUTDOWN_NOTICE=10\n"
                   "SUSPEND_NOTICE=10\nRESUME_NOTICE=10\nRESTART=120\nINIT_DELAY_MS=0\n" +
                       extra_config);
        daemon.start({GUEST_HEARTBEATD, "--listen", "unix:" + (dir / "hb.sock"), "--config", dir / "hb.conf",
                      "--socket-dir", dir.path(), "--legacy-socket", dir / "legacy.sock", "--name", "calib-guest"},
                     dir / "daemon.log");
        ASSERT_TRUE(host.connect(dir / "hb.sock", 15000ms));
    }
    // init -> init_ack (optionally offering our extensions).
    void handshake(std::vector<std::string> extensions = {}) {
        auto init = receive("init");
        ASSERT_TRUE(init) << read_file(dir / "daemon.log");
        nlohmann::json ack = host_message("init_ack", ++host_sequence, {{"invocation_id", (*init)["invocation_id"]}});
        if (!extensions.empty()) {
            ack["extensions"] = extensions;
            offered = Extensions::Offered;
        }
        send(ack);
    }
    std::optional<nlohmann::json> challenge(int64_t value) {
        send(host_message("challenge", ++host_sequence, {{"heartbeat_challenge", value}}));
        return receive("challenge_response");
    }
    std::optional<nlohmann::json> notify(int64_t id, const char* event, const char* type) {
        send(host_message(
            "action_notify", ++host_sequence,
            {{"invocation_id", id}, {"event_type", event}, {"notification_type", type}, {"timeout_ms", 10000}}));
        return receive("action_response", 20000ms);  // the voters get up to 9 s
    }

    void start_with_a_failing_health_script(const std::string& extra_config = "") {
        write_file(dir / "health.sh", "#!/bin/sh\necho 'disk full'\nexit 1\n", true);
        start("HEALTH_CHECK_SCRIPT=" + (dir / "health.sh") + "\n" + extra_config);
        handshake();
    }
    // The health script runs at start: challenge until its verdict shows.
    std::optional<nlohmann::json> first_unhealthy_answer() {
        auto end = Clock::now() + 30s;
        for (int64_t c = 1; Clock::now() < end; ++c) {
            auto resp = challenge(c);
            if (!resp || (*resp)["heartbeat_health"] == "unhealthy") return resp;
            std::this_thread::sleep_for(20ms);
        }
        return std::nullopt;
    }

    // The reference host's framing: "{...}\n", here cut into three writes.
    void send(const nlohmann::json& object) {
        std::string text = object.dump() + "\n";
        std::size_t third = text.size() / 3;
        host.send_raw(text.substr(0, third));
        host.send_raw(text.substr(third, third));
        host.send_raw(text.substr(2 * third));
    }
    std::optional<nlohmann::json> receive(const std::string& msg_type, std::chrono::milliseconds timeout = 10000ms) {
        return host.receive_type(msg_type, timeout);
    }

    // Every line the daemon wrote, whatever the test looked at.
    void TearDown() override {
        static const auto reference = conformance::read_transcript("heartbeat");
        conformance::SenderFraming framing;
        framing.feed(host.bytes_received());
        while (framing.next()) {}
        EXPECT_TRUE(framing.violations().empty()) << framing.violations().front();
        for (const auto& text : host.transcript()) {
            auto line = nlohmann::json::parse(text, nullptr, false);
            auto problems = conformance::heartbeat::check_message(line, Direction::GuestToHost, offered);
            EXPECT_TRUE(problems.empty()) << text << ": " << problems.front();
            if (!line.is_object()) continue;
            nlohmann::json ref = conformance::transcript_line(reference, line.value("msg_type", ""), true);
            ASSERT_FALSE(ref.is_null()) << "no reference line for " << text;
            // The reference shape, our negotiated keys aside.
            const auto* rule = conformance::heartbeat::rule_for(line.value("msg_type", ""));
            std::set<std::string> ours, theirs;
            for (const auto& [k, v] : line.items())
                if (!rule || !rule->find(k) || !rule->find(k)->extension) ours.insert(k);
            for (const auto& [k, v] : ref.items()) {
                theirs.insert(k);
                EXPECT_EQ(conformance::heartbeat::json_kind(line[k]), conformance::heartbeat::json_kind(v))
                    << k << " in " << line.dump();
            }
            EXPECT_EQ(ours, theirs) << line.dump();
        }
    }
};

}  // namespace

TEST_F(DaemonTranscript, InitAnnouncesTheConfiguredTimeoutsPlusOneSecond) {
    start();
    auto init = receive("init");
    ASSERT_TRUE(init);
    auto reference = conformance::transcript_line(conformance::read_transcript("heartbeat"), "init", true);
    // Same configuration as the reference guest's capture: the same values.
    for (const char* k : {"heartbeat_interval_ms", "vote_secs", "shutdown_notice_secs", "suspend_notice_secs",
                          "resume_notice_secs", "restart_secs", "corrective_action", "name"})
        EXPECT_EQ((*init)[k], reference[k]) << k;
}

TEST_F(DaemonTranscript, InitIsRetriedWithANewInvocationIdAndAnAckForThePreviousIsAccepted) {
    start("INIT_RETRY_MS=300\n");
    auto first = receive("init");
    auto second = receive("init");
    ASSERT_TRUE(first && second);
    EXPECT_NE((*first)["invocation_id"], (*second)["invocation_id"]);
    send(host_message("init_ack", 1, {{"invocation_id", (*first)["invocation_id"]}}));
    auto resp = challenge(42);
    ASSERT_TRUE(resp);
    EXPECT_EQ((*resp)["heartbeat_response"], 42);
}

TEST_F(DaemonTranscript, HealthyAnswerEchoesTheChallengeWithTheConfiguredAction) {
    start();
    handshake();
    auto resp = challenge(645116255);
    ASSERT_TRUE(resp);
    EXPECT_EQ((*resp)["heartbeat_response"], 645116255);
    EXPECT_EQ((*resp)["heartbeat_health"], "healthy");
    EXPECT_EQ((*resp)["corrective_action"], "reboot");
    EXPECT_EQ((*resp)["log_msg"], "");
}

TEST_F(DaemonTranscript, UnhealthyAnswerCarriesTheActionAndTheCause) {
    start_with_a_failing_health_script("CORRECTIVE_ACTION=stop\n");
    auto resp = first_unhealthy_answer();
    ASSERT_TRUE(resp) << read_file(dir / "daemon.log");
    EXPECT_EQ((*resp)["corrective_action"], "stop");
    EXPECT_NE((*resp)["log_msg"].get<std::string>().find("disk full"), std::string::npos) << resp->dump();
}

// docs/protocols/heartbeat.md#suppression-of-repeated-failures: while the
// failure lasts, later answers stay unhealthy, with action none and the same
// cause.
TEST_F(DaemonTranscript, ARepeatedFailureStaysUnhealthyWithActionNone) {
    start_with_a_failing_health_script();
    auto first = first_unhealthy_answer();
    ASSERT_TRUE(first) << read_file(dir / "daemon.log");
    EXPECT_EQ((*first)["corrective_action"], "reboot");
    for (int64_t c = 100; c < 103; ++c) {
        auto later = challenge(c);
        ASSERT_TRUE(later);
        EXPECT_EQ((*later)["heartbeat_health"], "unhealthy") << later->dump();
        EXPECT_EQ((*later)["corrective_action"], "none") << later->dump();
        EXPECT_EQ((*later)["log_msg"], (*first)["log_msg"]);
    }
}

TEST_F(DaemonTranscript, WithNobodyToAskAVoteIsCompleteAtOnce) {
    start();
    handshake();
    auto vote = notify(77, "stop", "revocable");
    ASSERT_TRUE(vote);
    EXPECT_EQ((*vote)["invocation_id"], 77);
    EXPECT_EQ((*vote)["event_type"], "stop");
    EXPECT_EQ((*vote)["notification_type"], "revocable");
    EXPECT_EQ((*vote)["vote_result"], "complete");
}

TEST_F(DaemonTranscript, EveryVoteResultTheDaemonGivesHasTheReferenceShape) {
    // The event script answers by event: 0 = accept/complete, 1 = reject,
    // anything else = error.
    write_file(dir / "event.sh",
               "#!/bin/sh\ncase \"$1\" in\n"
               "reboot) echo 'active calls'; exit 1;;\n"
               "pause) echo 'cannot pause'; exit 3;;\n"
               "*) exit 0;;\nesac\n",
               true);
    start("EVENT_NOTIFICATION_SCRIPT=" + (dir / "event.sh") + "\n");
    handshake();
    struct Case {
        int64_t id;
        const char* event;
        const char* type;
        const char* result;
    };
    for (const Case& c :
         {Case{1, "stop", "revocable", "accept"}, Case{2, "reboot", "revocable", "reject"},
          Case{3, "pause", "revocable", "error"}, Case{4, "live_migrate_end", "irrevocable", "complete"},
          Case{5, "cold_migrate_begin", "irrevocable", "complete"}}) {
        auto r = notify(c.id, c.event, c.type);
        ASSERT_TRUE(r) << c.event;
        EXPECT_EQ((*r)["invocation_id"], c.id);
        EXPECT_EQ((*r)["event_type"], c.event);
        EXPECT_EQ((*r)["notification_type"], c.type);
        EXPECT_EQ((*r)["vote_result"], c.result) << r->dump();
    }
}

TEST_F(DaemonTranscript, SigtermSaysExitAndStopsCleanly) {
    start();
    handshake();
    ASSERT_TRUE(challenge(1));
    daemon.signal(SIGTERM);
    auto bye = receive("exit");
    ASSERT_TRUE(bye);
    EXPECT_TRUE((*bye)["log_msg"].is_string());
    auto st = daemon.wait(15000ms);
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

TEST_F(DaemonTranscript, OurExtensionsAppearOnlyWhenTheHostOffersThem) {
    start();
    handshake({"applications", "held_challenges"});
    auto resp = challenge(7);
    ASSERT_TRUE(resp);
    EXPECT_EQ((*resp)["heartbeat_response"], 7);
    EXPECT_TRUE(resp->contains("applications")) << resp->dump();
}
