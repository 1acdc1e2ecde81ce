// vmhostd's host side of heartbeat v3 against a fake guest: init, challenges,
// loss, unhealthy reports, exit, protocol garbage, reconnects.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "host_fixture.h"

namespace hosttest {
namespace {

using CA = hb::CorrectiveAction;

class HeartbeatSupervision : public HostFixture {};

TEST_F(HeartbeatSupervision, AcksInitAdvertisesItsExtensionsAndChallenges) {
    auto ack = guest->init(kIntervalMs);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->extensions, (std::vector<std::string>{hb::kExtensionApplications, hb::kExtensionHeldChallenges}));
    // Each challenge is new, and the next one comes only after we answered.
    std::set<int64_t> seen;
    for (int i = 0; i < 4; ++i) {
        auto c = guest->next_challenge();
        ASSERT_TRUE(c) << "challenge " << i;
        EXPECT_GT(c->heartbeat_challenge, 0);
        seen.insert(c->heartbeat_challenge);
        guest->answer(*c);
    }
    EXPECT_EQ(seen.size(), 4u);
    auto vm = vm_status();
    EXPECT_EQ(vm["heartbeat"], "active");
    EXPECT_EQ(vm["interval_ms"], kIntervalMs);
    EXPECT_EQ(vm["guest_name"], "guest-of-test");
    EXPECT_TRUE(marker_lines().empty());
}

TEST_F(HeartbeatSupervision, OneMissRechallengesTwoMissesDeclareLossAndRunCorrectiveActionOnce) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot));
    auto first = guest->next_challenge();
    ASSERT_TRUE(first);
    // One miss: a new challenge, and answering it keeps the guest alive.
    auto again = guest->next_challenge();
    ASSERT_TRUE(again);
    EXPECT_NE(again->heartbeat_challenge, first->heartbeat_challenge);
    guest->answer(*again);
    // Two in a row: loss, then the executor reboots the VM.
    ASSERT_TRUE(guest->next_challenge());
    ASSERT_TRUE(guest->next_challenge());
    ASSERT_TRUE(eventually([&] { return marker_lines().size() == 1; })) << "executor never ran";
    EXPECT_EQ(marker_lines()[0], "vm1 reboot");
    EXPECT_EQ(vm_status()["heartbeat"], "lost");
    ASSERT_EQ(event_details("loss").size(), 1u);
    // No challenges while lost; a new init restarts supervision without re-applying.
    EXPECT_FALSE(guest->next_challenge(3 * kInterval));
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c);
    ASSERT_TRUE(eventually([&] { return vm_status()["heartbeat"] == "active"; }));
    EXPECT_EQ(marker_lines().size(), 1u);
}

TEST_F(HeartbeatSupervision, LossWithCorrectiveActionNoneIsOnlyLogged) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::None));
    ASSERT_TRUE(guest->next_challenge());
    ASSERT_TRUE(guest->next_challenge());
    ASSERT_TRUE(eventually([&] { return event_details("loss").size() == 1; }));
    EXPECT_NE(event_details("loss")[0].find("corrective action none"), std::string::npos);
    EXPECT_TRUE(event_details("corrective-action").empty());
}

TEST_F(HeartbeatSupervision, UnhealthyWithRebootRunsTheExecutorOnce) {
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, false, CA::Reboot, "database corrupt");
    ASSERT_TRUE(eventually([&] { return marker_lines().size() == 1; }));
    EXPECT_EQ(marker_lines()[0], "vm1 reboot");
    auto unhealthy = event_details("unhealthy");
    ASSERT_EQ(unhealthy.size(), 1u);
    EXPECT_NE(unhealthy[0].find("database corrupt"), std::string::npos);
    auto vm = vm_status();
    EXPECT_EQ(vm["heartbeat"], "recovering");
    EXPECT_EQ(vm["health"], "unhealthy");
    EXPECT_EQ(vm["health_message"], "database corrupt");
    // The guest comes back and is still unhealthy within 60 s: not re-applied.
    ASSERT_TRUE(guest->init(kIntervalMs));
    c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, false, CA::Reboot, "database corrupt");
    c = guest->next_challenge();
    ASSERT_TRUE(c) << "supervision stopped although the repeat was suppressed";
    guest->answer(*c);
    EXPECT_EQ(marker_lines().size(), 1u);
}

TEST_F(HeartbeatSupervision, UnhealthyWithNoneIsOnlyLogged) {
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, false, CA::None, "degraded");
    // Supervision continues: more challenges, still reported unhealthy.
    for (int i = 0; i < 3; ++i) {
        c = guest->next_challenge();
        ASSERT_TRUE(c);
        guest->answer(*c, false, CA::None, "degraded");
    }
    // Sentinel: a later unhealthy+stop runs the executor; it must be the only run.
    c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, false, CA::Stop, "dead");
    ASSERT_TRUE(eventually([&] { return !marker_lines().empty(); }));
    EXPECT_EQ(marker_lines(), std::vector<std::string>{"vm1 stop"});
    auto unhealthy = event_details("unhealthy");
    ASSERT_EQ(unhealthy.size(), 2u) << "the repeated report must be logged once";
    EXPECT_NE(unhealthy[0].find("degraded"), std::string::npos);
    EXPECT_NE(unhealthy[0].find("logged only"), std::string::npos);
}

TEST_F(HeartbeatSupervision, HealthyAgainIsRecordedAndApplicationsAreTracked) {
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, true, CA::Reboot, "",
                  std::vector<hb::ApplicationStatus>{{"vnf-b", "hung"}, {"vnf-a", "healthy"}});
    ASSERT_TRUE(eventually([&] { return vm_status()["applications"].size() == 2; }));
    auto apps = vm_status()["applications"];
    EXPECT_EQ(apps[0]["name"], "vnf-a");
    EXPECT_EQ(apps[0]["state"], "healthy");
    EXPECT_EQ(apps[1]["name"], "vnf-b");
    EXPECT_EQ(apps[1]["state"], "hung");
    c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, false, CA::Log, "slow");
    c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c);
    ASSERT_TRUE(eventually([&] { return event_details("healthy").size() == 1; }));
    EXPECT_TRUE(marker_lines().empty()) << "corrective action log must not run the executor";
}

TEST_F(HeartbeatSupervision, ExitEndsTheSessionWithoutLoss) {
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c);
    ASSERT_TRUE(guest->next_challenge());  // outstanding when we leave
    guest->send(hb::Exit{"daemon stopping"});
    // Several intervals of silence: nothing comes and nothing is declared.
    EXPECT_FALSE(guest->next(5 * kInterval));
    EXPECT_EQ(vm_status()["heartbeat"], "waiting-init");
    EXPECT_TRUE(event_details("loss").empty());
    auto exits = event_details("exit");
    ASSERT_EQ(exits.size(), 1u);
    EXPECT_NE(exits[0].find("daemon stopping"), std::string::npos);
    EXPECT_TRUE(marker_lines().empty());
    ASSERT_TRUE(guest->init(kIntervalMs));
    EXPECT_TRUE(guest->next_challenge());
}

TEST_F(HeartbeatSupervision, GarbageIsLoggedUnknownTypesNackedAndSupervisionGoesOn) {
    ASSERT_TRUE(guest->init(300));
    guest->send_raw("\nthis is not json\n");
    guest->send_raw("\n[1,2,3]\n");
    guest->send_raw("\n" + std::string(300 * 1024, 'x') + "\n");
    guest->send_raw("\n{\"version\":3,\"revision\":1,\"msg_type\":\"teleport\",\"sequence\":9,\"invocation_id\":77}\n");
    guest->send_raw("\n{\"version\":2,\"revision\":1,\"msg_type\":\"init\",\"sequence\":10}\n");
    guest->send_raw("\n{\"version\":3,\"revision\":1,\"msg_type\":\"challenge_response\",\"sequence\":11}\n");
    auto nack = guest->wait_for(is<hb::Nack>());
    ASSERT_TRUE(nack);
    const auto& n = std::get<hb::Nack>(nack->body);
    EXPECT_EQ(n.orig_msg_type, "teleport");
    EXPECT_EQ(n.invocation_id, 77);
    EXPECT_NE(n.log_msg.find("teleport"), std::string::npos);
    // Still supervised: challenges keep coming and answers count.
    for (int i = 0; i < 2; ++i) {
        auto c = guest->next_challenge();
        ASSERT_TRUE(c);
        guest->answer(*c);
    }
    EXPECT_TRUE(daemon.running());
    ASSERT_TRUE(eventually([&] { return event_details("protocol").size() >= 5; }));
    std::string all;
    for (const auto& d : event_details("protocol")) all += d + "\n";
    EXPECT_NE(all.find("unparsable"), std::string::npos) << all;
    EXPECT_NE(all.find("version 2"), std::string::npos) << all;
    EXPECT_NE(all.find("malformed challenge_response"), std::string::npos) << all;
    EXPECT_NE(daemon.log().find("oversized"), std::string::npos);
    EXPECT_EQ(vm_status()["heartbeat"], "active");
}

TEST_F(HeartbeatSupervision, DisconnectIsNotLossAndReconnectResumes) {
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c);
    guest->disconnect();
    guest->close_listener();
    ASSERT_TRUE(eventually([&] { return vm_status()["heartbeat"] == "disconnected"; }));
    // Longer than two intervals away: still no loss.
    std::this_thread::sleep_for(3 * kInterval);
    EXPECT_TRUE(event_details("loss").empty());
    EXPECT_TRUE(marker_lines().empty());
    guest->listen();
    ASSERT_TRUE(guest->accept()) << "vmhostd did not reconnect";
    ASSERT_TRUE(guest->init(kIntervalMs));
    c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c);
    EXPECT_EQ(event_details("disconnected").size(), 1u);
    EXPECT_EQ(event_details("connected").size(), 2u);
}

}  // namespace
}  // namespace hosttest
