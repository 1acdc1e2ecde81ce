// guest-heartbeatd stays bounded while local programs misbehave: descriptor
// exhaustion, applications that exit without a goodbye by the thousand,
// floods of garbage. A real daemon over real sockets.
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "guest_fixture.h"
#include "raw_application.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

std::size_t lines_containing(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

std::size_t occurrences(const std::string& text, const std::string& needle) { return lines_containing(text, needle); }

class Abuse : public GuestFixture {
protected:
    std::string socket() const { return dir / "heartbeat.sock"; }
    // The longest line the guest has sent the host so far.
    std::size_t longest_line() const {
        std::size_t longest = 0;
        for (const auto& line : host.transcript()) longest = std::max(longest, line.size());
        return longest;
    }
};

TEST_F(Abuse, IdleConnectionsAtTheDescriptorLimitAreTurnedAwayWithoutSpinning) {
    daemon_prefix = {"/usr/bin/prlimit", "--nofile=64:64", "--"};
    start_daemon();
    ASSERT_TRUE(handshake());
    auto start = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<RawApplication>> idle;
    for (int i = 0; i < 100; ++i) {
        idle.push_back(std::make_unique<RawApplication>(socket()));
        ASSERT_EQ(idle.back()->connect_error(), 0) << i;
    }
    // Those beyond the limit are accepted on the reserve descriptor and
    // closed at once, not left in the backlog to wake the daemon forever.
    int closed = 0;
    for (auto until = std::chrono::steady_clock::now() + 5s; closed < 36 && std::chrono::steady_clock::now() < until;) {
        closed = 0;
        for (auto& c : idle) closed += c->closed_by_daemon(0ms);
        if (closed < 36) std::this_thread::sleep_for(50ms);
    }
    EXPECT_GE(closed, 36) << read_file(daemon_log()).substr(0, 4000);
    auto r = challenge();
    EXPECT_TRUE(is_healthy(r));
    std::this_thread::sleep_for(1500ms);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    std::string log = read_file(daemon_log());
    // One line per second at most, with the count of those held back.
    EXPECT_LE(lines_containing(log, "descriptor limit"), static_cast<std::size_t>(seconds + 2)) << log.size();
    EXPECT_GE(lines_containing(log, "descriptor limit"), 1u);
    EXPECT_TRUE(daemon.running());
    // Room again: a real application registers.
    idle.clear();
    RawApplication app(socket());
    auto result = app.register_as("after-the-storm");
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->accepted()) << result->reason();
}

TEST_F(Abuse, AnApplicationThatDiesOverAndOverLeavesOneFailure) {
    start_daemon();
    ASSERT_TRUE(handshake());
    int registered = 0;
    for (int i = 0; i < 300; ++i) {
        RawApplication app(socket());
        auto r = app.register_as("cycler", gsdk::test::ipc::ACTION_LOG);
        registered += r && r->accepted();
    }  // closed without a Deregister each time
    ASSERT_GT(registered, 100);
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(occurrences(r["log_msg"].get<std::string>(), "cycler:"), 1u) << r["log_msg"];
    EXPECT_LE(longest_line(), 16384u);
}

TEST_F(Abuse, ThousandsOfDistinctFailuresAreSummarisedWithinTheLineBudget) {
    start_daemon();
    ASSERT_TRUE(handshake());
    for (int i = 0; i < 2000; ++i) {
        RawApplication app(socket());
        app.register_as("gone-with-a-long-name-" + std::to_string(i), gsdk::test::ipc::ACTION_LOG);
    }
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    std::string msg = r["log_msg"];
    EXPECT_NE(msg.find("more applications failing"), std::string::npos) << msg.substr(0, 300);
    EXPECT_LE(longest_line(), 16384u);
    ASSERT_TRUE(r.contains("applications"));
    EXPECT_GT(r.value("applications_omitted", 0), 0) << r.dump().substr(0, 300);
    EXPECT_EQ(r["applications"].size() + r.value("applications_omitted", 0), 2000u);
    EXPECT_TRUE(daemon.running());
}

TEST_F(Abuse, AFloodOfGarbageIsLoggedOncePerSecondWithACount) {
    start_daemon();
    ASSERT_TRUE(handshake());
    RawApplication app(socket());
    for (int i = 0; i < 1000; ++i) app.send_bytes(std::string("\xff\xff\xff garbage", 12));
    std::this_thread::sleep_for(1200ms);
    app.send_bytes(std::string("\xff\xff\xff garbage", 12));
    ASSERT_TRUE(wait_for_text(daemon_log(), "suppressed", 3s)) << read_file(daemon_log()).substr(0, 2000);
    std::string log = read_file(daemon_log());
    EXPECT_LE(lines_containing(log, "undecodable"), 4u);
    auto r = challenge();
    EXPECT_TRUE(is_healthy(r));
}

TEST_F(Abuse, AnUnusableSocketDirectoryIsReportedByName) {
    write_file(dir / "not-a-dir", "");
    write_file(dir / "hb.conf", "INIT_DELAY_MS=0\n");
    daemon.start({GUEST_HEARTBEATD, "--listen", "unix:" + (dir / "hb.sock"), "--config", dir / "hb.conf",
                  "--socket-dir", dir / "not-a-dir/run", "--legacy-socket", dir / "legacy.sock"},
                 daemon_log());
    auto status = daemon.wait(5s);
    ASSERT_TRUE(status);
    EXPECT_NE(*status, 0);
    EXPECT_TRUE(wait_for_text(daemon_log(), "cannot prepare the socket directory", 1s)) << read_file(daemon_log());
}

}  // namespace
