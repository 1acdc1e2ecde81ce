// server-groupd re-reads its configuration on SIGHUP (systemctl reload): what
// local services and members see afterwards.
#include <signal.h>

#include <cerrno>

#include "local_service_peer.h"
#include "sg_fixture.h"

namespace gsdk::test {
namespace {

class ServerGroupReload : public ServerGroupTest {
protected:
    // Rewrites the file start_daemon() wrote (the same first lines, then
    // settings), signals the daemon and waits for its verdict in the log.
    bool reload(const std::string& settings, const std::string& verdict) {
        int before = log_count(verdict);
        write_file(dir / "sg.conf", "STATUS_TIMEOUT_MS=3000\nLEGACY_DATAGRAMS=no\n" + settings);
        daemon.signal(SIGHUP);
        auto end = std::chrono::steady_clock::now() + 10s;
        while (log_count(verdict) <= before) {
            if (std::chrono::steady_clock::now() > end) return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }
    // The error of a claim of address by a new service (0: accepted).
    int claim_error(const std::string& address) {
        TestService s(service_socket());
        if (!s.connected()) return -1;
        auto r = s.claim(address);
        if (!r) return -1;
        return r->accepted() ? 0 : static_cast<int>(r->error());
    }
    std::string reloaded() { return "reloaded " + (dir / "sg.conf"); }
};

TEST_F(ServerGroupReload, AnAddressAddedToLocalServicesCanBeClaimedAfterIt) {
    start_daemon();
    connect_host();
    ASSERT_EQ(ENOENT, claim_error("cgcs.extra"));

    ASSERT_TRUE(reload("LOCAL_SERVICES=cgcs.scale,cgcs.extra\n", reloaded())) << read_file(daemon_log());
    EXPECT_EQ(0, claim_error("cgcs.extra")) << read_file(daemon_log());
    EXPECT_EQ(0, claim_error("cgcs.scale"));

    // Taken out again: new claims of it are refused.
    ASSERT_TRUE(reload("LOCAL_SERVICES=cgcs.scale\n", reloaded()));
    EXPECT_EQ(ENOENT, claim_error("cgcs.extra"));
}

// A reload asked for while the daemon was still starting (here: pending
// when it began) is served once its watch is in place, and it still serves.
TEST_F(ServerGroupReload, AReloadAskedDuringStartUpIsServedOnceTheDaemonWatchesForIt) {
    daemon.start_with_pending({SIGHUP});
    start_daemon();
    connect_host();
    auto end = std::chrono::steady_clock::now() + 10s;
    while (log_count(reloaded()) < 1 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(log_count(reloaded()), 1) << read_file(daemon_log());
    ASSERT_TRUE(reload("LOCAL_SERVICES=cgcs.scale,cgcs.extra\n", reloaded())) << read_file(daemon_log());
    EXPECT_EQ(0, claim_error("cgcs.extra")) << read_file(daemon_log());
}

TEST_F(ServerGroupReload, AFileWithAProblemIsRefusedWhole) {
    start_daemon();
    connect_host();
    ASSERT_TRUE(reload("LOCAL_SERVICES=cgcs.scale,cgcs.extra\nBROADCAST_RATE=oops\n",
                       "refused; the running configuration stays"))
        << read_file(daemon_log());
    EXPECT_GE(log_count("BROADCAST_RATE"), 1) << "the log names the bad key";
    EXPECT_EQ(ENOENT, claim_error("cgcs.extra")) << "nothing of the refused file applies";

    // A later good file applies over the start settings, not over the refused one.
    ASSERT_TRUE(reload("LOCAL_SERVICES=cgcs.extra\n", reloaded()));
    EXPECT_EQ(0, claim_error("cgcs.extra"));
    EXPECT_EQ(ENOENT, claim_error("cgcs.scale"));
}

TEST_F(ServerGroupReload, AMissingFileIsRefused) {
    start_daemon();
    ::unlink((dir / "sg.conf").c_str());
    int before = log_count("the running configuration stays");
    daemon.signal(SIGHUP);
    auto end = std::chrono::steady_clock::now() + 10s;
    while (log_count("the running configuration stays") <= before && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(5ms);
    ASSERT_GT(log_count("the running configuration stays"), before) << read_file(daemon_log());
    EXPECT_EQ(0, claim_error("cgcs.scale"));
}

TEST_F(ServerGroupReload, WhoMayConnectAndTheQuotasChangeAtRestartOnly) {
    start_daemon();
    connect_host();
    ASSERT_TRUE(reload("ALLOWED_UIDS=64103\nMAX_CLIENTS=1\n", reloaded())) << read_file(daemon_log());
    EXPECT_EQ(1, log_count("change at restart only; the running values stay"));
    // The quota of 1 did not apply: two members and a service all connect.
    auto a = joined_member();
    auto b = joined_member();
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->connected());
    EXPECT_TRUE(b->connected());
    EXPECT_EQ(0, claim_error("cgcs.scale"));
}

}  // namespace
}  // namespace gsdk::test
