// Two HaNodes wired to each other in one process: each one's broadcasts are
// delivered to the other, time is a clock the test advances, and the
// service address is a real UNIX datagram socket in a temporary directory,
// which a client socket of the test sends requests to. What is checked is
// what an operator or a client of the pair would see: who is active, how
// the pair votes on the host's question, and which requests get answers.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <deque>

#include "ha_node.h"
#include "test_process.h"

using namespace ha;
using namespace std::chrono_literals;

namespace {

class Pair : public ::testing::Test {
protected:
    gsdk::test::TempDir dir;
    Clock::time_point now = Clock::now();
    // Broadcasts on their way: to ha-1 and to ha-2.
    std::deque<std::string> to_1, to_2;
    bool partitioned = false;  // the group drops what they send each other
    bool running_1 = true, running_2 = true;
    HaNode node_1{options("ha-1", 200), [this](const std::string& p) { return carry(p, to_2); }};
    HaNode node_2{options("ha-2", 100), [this](const std::string& p) { return carry(p, to_1); }};
    int client = -1;

    NodeOptions options(const std::string& name, int priority) {
        NodeOptions o;
        o.pair = "test-pair";
        o.node = name;
        o.service_path = dir / "service.sock";
        o.priority = priority;
        o.interval = 100ms;
        o.dead_after = 3;
        return o;
    }

    int carry(const std::string& payload, std::deque<std::string>& to) {
        if (!partitioned) to.push_back(payload);
        return 0;
    }

    void SetUp() override {
        client = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ASSERT_GE(client, 0);
        sa_family_t family = AF_UNIX;  // autobind: the service can answer us
        ASSERT_EQ(::bind(client, reinterpret_cast<sockaddr*>(&family), sizeof family), 0);
    }
    void TearDown() override { ::close(client); }

    // Advances time in 10 ms steps, delivering broadcasts and ticking the
    // nodes that run, as their poll loops would.
    void run_for(Clock::duration d) {
        for (auto end = now + d; now < end;) {
            now += 10ms;
            for (; !to_1.empty(); to_1.pop_front())
                if (running_1) node_1.on_broadcast("vm-2", to_1.front().data(), to_1.front().size(), now);
            for (; !to_2.empty(); to_2.pop_front())
                if (running_2) node_2.on_broadcast("vm-1", to_2.front().data(), to_2.front().size(), now);
            if (running_1) node_1.tick(now);
            if (running_2) node_2.tick(now);
        }
    }

    void start_both() {
        node_1.start(now);
        node_2.start(now);
        run_for(1s);
        ASSERT_EQ(node_1.role(), Role::Active);
        ASSERT_EQ(node_2.role(), Role::Standby);
    }

    void request(uint64_t n) {
        std::string datagram = format_request({"c1", n});
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strcpy(sa.sun_path, (dir / "service.sock").c_str());
        ASSERT_EQ(::sendto(client, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa),
                  static_cast<ssize_t>(datagram.size()))
            << std::strerror(errno);
    }

    // Every answer waiting at the client.
    std::vector<Answer> answers() {
        std::vector<Answer> out;
        char buf[kMaxDatagram + 1];
        for (ssize_t n; (n = ::recv(client, buf, sizeof buf, 0)) > 0;)
            if (auto a = parse_answer(buf, n)) out.push_back(*a);
        return out;
    }
};

}  // namespace

TEST_F(Pair, HigherPriorityBecomesActiveWhenBothStart) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    request(1);
    node_1.serve(now);
    auto got = answers();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].node, "ha-1");
    EXPECT_EQ(got[0].n, 1u);
}

TEST_F(Pair, ActiveVetoesMigrationUntilStandbyTookOverThenAccepts) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    Vote first = node_1.on_vote(GHB_EVENT_LIVE_MIGRATE_BEGIN, now);
    EXPECT_FALSE(first.accept);
    EXPECT_NE(first.reason.find("handing over to ha-2"), std::string::npos) << first.reason;
    // Asked again before the standby confirmed: still no.
    EXPECT_FALSE(node_1.on_vote(GHB_EVENT_LIVE_MIGRATE_BEGIN, now).accept);

    run_for(200ms);
    EXPECT_EQ(node_1.role(), Role::Standby);
    EXPECT_EQ(node_2.role(), Role::Active);
    EXPECT_TRUE(node_1.on_vote(GHB_EVENT_LIVE_MIGRATE_BEGIN, now).accept);
}

TEST_F(Pair, ActiveWithoutStandbyAcceptsAndOtherEventsAreNotVetoed) {
    running_2 = false;  // ha-2 never starts
    node_1.start(now);
    run_for(1s);
    ASSERT_EQ(node_1.role(), Role::Active);
    EXPECT_TRUE(node_1.on_vote(GHB_EVENT_LIVE_MIGRATE_BEGIN, now).accept);
    EXPECT_EQ(node_1.role(), Role::Active);

    running_2 = true;
    node_2.start(now);
    run_for(1s);
    ASSERT_EQ(node_2.role(), Role::Standby);
    // Ending a migration, or resuming, does not take the VM away: nothing to veto.
    EXPECT_TRUE(node_1.on_vote(GHB_EVENT_LIVE_MIGRATE_END, now).accept);
    EXPECT_TRUE(node_1.on_vote(GHB_EVENT_RESUME, now).accept);
    EXPECT_EQ(node_1.role(), Role::Active);
}

TEST_F(Pair, RequestsAnsweredBeforeTheHandoverAreNotAnsweredAgainAfterIt) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    request(1);
    request(2);
    node_1.serve(now);
    ASSERT_EQ(answers().size(), 2u);
    run_for(200ms);  // a heartbeat carries the state to ha-2

    ASSERT_FALSE(node_1.on_vote(GHB_EVENT_STOP, now).accept);
    run_for(200ms);
    ASSERT_EQ(node_2.role(), Role::Active);

    // The client resends 2 (say its answer was slow) and sends 3: only 3 is answered, by ha-2.
    request(2);
    request(3);
    node_2.serve(now);
    auto got = answers();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].n, 3u);
    EXPECT_EQ(got[0].node, "ha-2");
    EXPECT_EQ(got[0].epoch, 2u);
}

TEST_F(Pair, StandbyTakesOverOnTheHostsNotificationAboutTheActivesVm) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    running_1 = false;  // ha-1's VM is gone; the host says so before ha-2 could notice
    node_2.on_host_notification(R"({"instance_name":"vm-2","event_type":"heartbeat_lost"})", now);
    EXPECT_EQ(node_2.role(), Role::Standby) << "a notification about its own VM is not about the active";
    node_2.on_host_notification(R"({"instance_name":"vm-1","event_type":"live_migrate_end"})", now);
    EXPECT_EQ(node_2.role(), Role::Standby) << "the end of a migration does not take the active away";
    node_2.on_host_notification("not json", now);
    node_2.on_host_notification(R"({"instance_name":"vm-1","event_type":"heartbeat_lost"})", now);
    EXPECT_EQ(node_2.role(), Role::Active);
    request(1);
    node_2.serve(now);
    auto got = answers();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].node, "ha-2");
}

TEST_F(Pair, StandbyTakesOverWhenTheActiveFallsSilent) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    running_1 = false;
    run_for(100ms);
    EXPECT_EQ(node_2.role(), Role::Standby) << "one missed heartbeat is not yet three";
    run_for(400ms);
    EXPECT_EQ(node_2.role(), Role::Active);
}

TEST_F(Pair, ActiveCutOffWhileTheOtherTookTheAddressStepsDownInsteadOfAnswering) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    partitioned = true;
    run_for(500ms);
    ASSERT_EQ(node_2.role(), Role::Active);
    ASSERT_EQ(node_1.role(), Role::Active);  // it cannot know yet

    node_1.serve(now);  // e.g. requests it had queued before the takeover
    EXPECT_EQ(node_1.role(), Role::Standby);
    request(1);
    node_1.serve(now);
    node_2.serve(now);
    auto got = answers();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].node, "ha-2");
}

TEST_F(Pair, HandoverNotConfirmedInTimeLeavesTheActiveServing) {
    ASSERT_NO_FATAL_FAILURE(start_both());
    partitioned = true;  // the standby never hears the handover
    ASSERT_FALSE(node_1.on_vote(GHB_EVENT_LIVE_MIGRATE_BEGIN, now).accept);
    running_2 = false;
    run_for(2500ms);
    EXPECT_EQ(node_1.role(), Role::Active);
    request(1);
    node_1.serve(now);
    EXPECT_EQ(answers().size(), 1u);
}
