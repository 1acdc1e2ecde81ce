// The real guest-heartbeatd, driven by a scripted host over its --listen
// socket: every line it writes must have the shape of the legacy guest's.
#include <gtest/gtest.h>

#include <signal.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fstream>
#include <thread>

#include <set>
#include "gsdk/unix_socket.h"

#include "heartbeat_schema.h"
#include "test_process.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

nlohmann::json legacy_line(const std::string& msg_type) {
    std::ifstream in(std::string(CONFORMANCE_DIR) + "/data/heartbeat.jsonl");
    for (std::string l; std::getline(in, l);) {
        auto r = nlohmann::json::parse(l);
        if (r["dir"] == "guest->host" && r["line"]["msg_type"] == msg_type) return r["line"];
    }
    return {};
}

void expect_same_shape(const nlohmann::json& ours, const nlohmann::json& legacy) {
    ASSERT_FALSE(legacy.is_null());
    std::set<std::string> a, b;
    for (const auto& [k, v] : ours.items()) a.insert(k);
    for (const auto& [k, v] : legacy.items()) b.insert(k);
    EXPECT_EQ(a, b) << ours.dump();
    for (const auto& [k, v] : legacy.items())
        EXPECT_EQ(conformance::json_kind(ours[k]), conformance::json_kind(v)) << k;
}

struct Daemon {
    TempDir dir;
    Subprocess proc;
    JsonLinePeer host;
    std::string log = dir / "daemon.log";

    explicit Daemon(const std::string& extra_config = "") {
        write_file(dir / "hb.conf",
                   "HB_INTERVAL=1000\nCORRECTIVE_ACTION=reboot\nVOTE=10\nSHUTDOWN_NOTICE=10\n"
                   "SUSPEND_NOTICE=10\nRESUME_NOTICE=10\nRESTART=120\nINIT_DELAY_MS=0\n" +
                       extra_config);
        proc.start({GUEST_HEARTBEATD, "--listen", "unix:" + (dir / "hb.sock"), "--config", dir / "hb.conf",
                    "--socket-dir", dir.path(), "--name", "calib-guest"},
                   log);
        EXPECT_TRUE(host.connect(dir / "hb.sock"));
    }
};

}  // namespace

TEST(DaemonTranscript, InitHasTheLegacyShapeAndAnnouncesConfiguredTimeoutsPlusOneSecond) {
    Daemon d;
    auto init = d.host.receive_type("init");
    ASSERT_TRUE(init);
    EXPECT_TRUE(conformance::check_heartbeat_line(*init).empty());
    expect_same_shape(*init, legacy_line("init"));
    auto legacy = legacy_line("init");
    for (const char* k : {"heartbeat_interval_ms", "vote_secs", "shutdown_notice_secs", "suspend_notice_secs",
                          "resume_notice_secs", "restart_secs", "corrective_action", "name"})
        EXPECT_EQ((*init)[k], legacy[k]) << k;
}

TEST(DaemonTranscript, InitIsRetriedWithANewInvocationIdAndAnAckForThePreviousIsAccepted) {
    Daemon d("INIT_RETRY_MS=300\n");
    auto first = d.host.receive_type("init");
    auto second = d.host.receive_type("init", 3000ms);
    ASSERT_TRUE(first && second);
    EXPECT_NE((*first)["invocation_id"], (*second)["invocation_id"]);
    d.host.send({{"version", 3},
                 {"revision", 1},
                 {"sequence", 1},
                 {"msg_type", "init_ack"},
                 {"invocation_id", (*first)["invocation_id"]}});
    d.host.send(
        {{"version", 3}, {"revision", 1}, {"sequence", 2}, {"msg_type", "challenge"}, {"heartbeat_challenge", 42}});
    auto resp = d.host.receive_type("challenge_response");
    ASSERT_TRUE(resp);
    EXPECT_EQ((*resp)["heartbeat_response"], 42);
}

TEST(DaemonTranscript, ChallengeResponseActionResponseAndExitHaveTheLegacyShape) {
    Daemon d;
    auto init = d.host.receive_type("init");
    ASSERT_TRUE(init);
    d.host.send({{"version", 3},
                 {"revision", 1},
                 {"sequence", 1},
                 {"msg_type", "init_ack"},
                 {"invocation_id", (*init)["invocation_id"]}});
    d.host.send({{"version", 3},
                 {"revision", 1},
                 {"sequence", 2},
                 {"msg_type", "challenge"},
                 {"heartbeat_challenge", 645116255}});
    auto resp = d.host.receive_type("challenge_response");
    ASSERT_TRUE(resp);
    EXPECT_TRUE(conformance::check_heartbeat_line(*resp).empty()) << resp->dump();
    expect_same_shape(*resp, legacy_line("challenge_response"));
    EXPECT_EQ((*resp)["heartbeat_response"], 645116255);
    EXPECT_EQ((*resp)["heartbeat_health"], "healthy");
    EXPECT_EQ((*resp)["corrective_action"], "reboot");
    EXPECT_EQ((*resp)["log_msg"], "");

    // Nobody registered: a vote is answered at once with "complete".
    d.host.send({{"version", 3},
                 {"revision", 1},
                 {"sequence", 3},
                 {"msg_type", "action_notify"},
                 {"invocation_id", 77},
                 {"event_type", "stop"},
                 {"notification_type", "revocable"},
                 {"timeout_ms", 4000}});
    auto vote = d.host.receive_type("action_response", 1500ms);
    ASSERT_TRUE(vote);
    EXPECT_TRUE(conformance::check_heartbeat_line(*vote).empty()) << vote->dump();
    EXPECT_EQ((*vote)["invocation_id"], 77);
    EXPECT_EQ((*vote)["event_type"], "stop");
    EXPECT_EQ((*vote)["notification_type"], "revocable");
    EXPECT_EQ((*vote)["vote_result"], "complete");

    d.proc.signal(SIGTERM);
    auto bye = d.host.receive_type("exit");
    ASSERT_TRUE(bye);
    EXPECT_TRUE(conformance::check_heartbeat_line(*bye).empty()) << bye->dump();
    auto st = d.proc.wait(5000ms);
    ASSERT_TRUE(st);
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

TEST(DaemonTranscript, EveryLineIsFramedWithANewlineBeforeAndAfter) {
    Daemon d;
    auto init = d.host.receive_type("init");
    ASSERT_TRUE(init);
    d.host.send({{"version", 3},
                 {"revision", 1},
                 {"sequence", 1},
                 {"msg_type", "init_ack"},
                 {"invocation_id", (*init)["invocation_id"]}});
    d.host.close();
    // Read the raw bytes of a fresh connection: "\n{...}\n".
    int fd = gsdk::unix_stream_connect(d.dir / "hb.sock");
    ASSERT_GE(fd, 0);
    std::string got;
    char buf[4096];
    auto end = std::chrono::steady_clock::now() + 5s;
    while (got.size() < 2 || got.back() != '\n') {
        if (std::chrono::steady_clock::now() > end) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            got.append(buf, n);
        else
            std::this_thread::sleep_for(10ms);
    }
    ::close(fd);
    ASSERT_GE(got.size(), 3u);
    EXPECT_EQ(got.front(), '\n');
    EXPECT_EQ(got[1], '{');
    EXPECT_EQ(got.back(), '\n');
}
