#include <gtest/gtest.h>

#include "health_verdict.h"

using namespace gsdk::heartbeat;
using gsdk::hbwire::CorrectiveAction;

TEST(HealthVerdict, AllHealthyCarriesTheConfiguredActionAndNoMessage) {
    auto v = merge_health({{"a", true, CorrectiveAction::Stop, ""}}, CorrectiveAction::Reboot);
    EXPECT_TRUE(v.healthy);
    EXPECT_EQ(v.action, CorrectiveAction::Reboot);
    EXPECT_EQ(v.log_msg, "");
}

TEST(HealthVerdict, MostSevereActionWinsStopOverRebootOverLog) {
    auto v = merge_health({{"a", false, CorrectiveAction::Log, "slow"},
                           {"b", false, CorrectiveAction::Stop, "hung"},
                           {"c", false, CorrectiveAction::Reboot, "dead"},
                           {"d", true, CorrectiveAction::Stop, ""}},
                          CorrectiveAction::None);
    EXPECT_FALSE(v.healthy);
    EXPECT_EQ(v.action, CorrectiveAction::Stop);
    EXPECT_EQ(v.log_msg, "a: slow; b: hung; c: dead");
    v = merge_health({{"a", false, CorrectiveAction::Log, "x"}, {"b", false, CorrectiveAction::Reboot, "y"}},
                     CorrectiveAction::Stop);
    EXPECT_EQ(v.action, CorrectiveAction::Reboot);
}

TEST(HealthVerdict, UnhealthyWithNoneStaysNoneNotTheConfiguredAction) {
    auto v = merge_health({{"a", false, CorrectiveAction::None, "meh"}}, CorrectiveAction::Reboot);
    EXPECT_FALSE(v.healthy);
    EXPECT_EQ(v.action, CorrectiveAction::None);
}

TEST(RepeatSuppressor, SameFailureIsNotReportedAgainWithinTheWindow) {
    RepeatSuppressor s(std::chrono::seconds(60));
    auto t0 = RepeatSuppressor::Clock::now();
    std::vector<HealthFinding> hung = {{"a", false, CorrectiveAction::Reboot, "hung"}};
    EXPECT_EQ(s.filter(hung, t0).size(), 1u);
    EXPECT_TRUE(s.filter(hung, t0 + std::chrono::seconds(30)).empty());
    EXPECT_TRUE(s.filter(hung, t0 + std::chrono::seconds(59)).empty());
    EXPECT_EQ(s.filter(hung, t0 + std::chrono::seconds(61)).size(), 1u);
}

TEST(RepeatSuppressor, ADifferentActionOrSourceIsReported) {
    RepeatSuppressor s(std::chrono::seconds(60));
    auto t0 = RepeatSuppressor::Clock::now();
    s.filter({{"a", false, CorrectiveAction::Reboot, "hung"}}, t0);
    EXPECT_EQ(s.filter({{"a", false, CorrectiveAction::Stop, "hung"}}, t0).size(), 1u);
    EXPECT_EQ(s.filter({{"b", false, CorrectiveAction::Reboot, "hung"}}, t0).size(), 1u);
    EXPECT_EQ(s.filter({{"c", true, CorrectiveAction::Reboot, ""}}, t0).size(), 1u);
}

TEST(RepeatSuppressor, ZeroWindowNeverSuppresses) {
    RepeatSuppressor s(std::chrono::seconds(0));
    auto t0 = RepeatSuppressor::Clock::now();
    std::vector<HealthFinding> f = {{"a", false, CorrectiveAction::Reboot, "hung"}};
    EXPECT_EQ(s.filter(f, t0).size(), 1u);
    EXPECT_EQ(s.filter(f, t0).size(), 1u);
}
