// What guest-heartbeatd logs about its host that operators grep for, as the
// original daemon did: a line cut by a disconnect, a challenge before
// init_ack, an action_notify of an unknown notification type, and the host's
// control bytes shown escaped rather than written to the terminal.
#include "guest_fixture.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {
class HostLogging : public GuestFixture {};
}  // namespace

TEST_F(HostLogging, AChallengeBeforeInitAckIsLoggedAtWarning) {
    start_daemon();
    ASSERT_TRUE(host.connect(dir / "hb.sock"));
    ASSERT_TRUE(host.receive_type("init", 5s));
    auto c = message("challenge");
    c["heartbeat_challenge"] = 31337;
    host.send(c);
    EXPECT_TRUE(wait_for_text(daemon_log(), "[warning]: challenge 31337 from the host before init_ack: ignored", 5s))
        << read_file(daemon_log());
}

TEST_F(HostLogging, APartialLineLostAtDisconnectIsLoggedAtWarning) {
    start_daemon();
    ASSERT_TRUE(handshake());
    host.send_raw("\n{\"version\":3,\"msg_type\":\"chal");  // 29 bytes after the newline
    host.close();
    EXPECT_TRUE(wait_for_text(daemon_log(), "[warning]: a partial line of 29 bytes from", 5s))
        << read_file(daemon_log());
}

TEST_F(HostLogging, ControlBytesFromTheHostAreEscapedInTheLog) {
    start_daemon();
    ASSERT_TRUE(handshake());
    auto nack = message("nack");
    nack["invocation_id"] = 1;
    nack["log_msg"] = "bad\x1b[2Jthing\x07";
    host.send(nack);
    ASSERT_TRUE(wait_for_text(daemon_log(), "bad\\x1b[2Jthing\\x07", 5s)) << read_file(daemon_log());
    std::string log = read_file(daemon_log());
    EXPECT_EQ(log.find('\x1b'), std::string::npos);
    EXPECT_EQ(log.find('\x07'), std::string::npos);
}

TEST_F(HostLogging, AnActionNotifyOfAnUnknownNotificationTypeIsLogged) {
    start_daemon();
    ASSERT_TRUE(handshake());
    send_action(77, "stop", "perhaps", 2000);
    EXPECT_TRUE(
        wait_for_text(daemon_log(), "action_notify for stop (invocation 77) with an unknown notification type", 5s))
        << read_file(daemon_log());
    // And it is still answered.
    EXPECT_TRUE(host.receive_type("action_response", 10s));
}
