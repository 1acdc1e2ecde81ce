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
    EXPECT_EQ(v.log_msg, "b: hung; c: dead; a: slow");  // most severe first
    v = merge_health({{"a", false, CorrectiveAction::Log, "x"}, {"b", false, CorrectiveAction::Reboot, "y"}},
                     CorrectiveAction::Stop);
    EXPECT_EQ(v.action, CorrectiveAction::Reboot);
}

TEST(HealthVerdict, UnhealthyWithNoneStaysNoneNotTheConfiguredAction) {
    auto v = merge_health({{"a", false, CorrectiveAction::None, "meh"}}, CorrectiveAction::Reboot);
    EXPECT_FALSE(v.healthy);
    EXPECT_EQ(v.action, CorrectiveAction::None);
}

TEST(HealthVerdict, ThousandsOfFailuresFitTheBudgetWithASummary) {
    std::vector<HealthFinding> many;
    for (int i = 0; i < 8000; ++i)
        many.push_back({"app-" + std::to_string(i), false, CorrectiveAction::Log, "exited without deregistering"});
    many.push_back({"the-stopper", false, CorrectiveAction::Stop, "disk full"});
    auto v = merge_health(many, CorrectiveAction::Reboot);
    EXPECT_EQ(v.action, CorrectiveAction::Stop);
    EXPECT_LE(v.log_msg.size(), kLogMsgBudget);
    EXPECT_EQ(v.log_msg.rfind("the-stopper: disk full", 0), 0u) << v.log_msg;
    EXPECT_NE(v.log_msg.find("more applications failing"), std::string::npos) << v.log_msg;
}

namespace {
using Clock = RepeatSuppressor::Clock;
HealthVerdict decide(RepeatSuppressor& s, const std::vector<HealthFinding>& f, Clock::time_point at) {
    return s.apply(merge_health(f, CorrectiveAction::Reboot), f, at);
}
}  // namespace

TEST(RepeatSuppressor, AReportedFailureStaysUnhealthyWithActionNoneWithinTheWindow) {
    RepeatSuppressor s(std::chrono::seconds(60));
    auto t0 = Clock::now();
    std::vector<HealthFinding> hung = {{"a", false, CorrectiveAction::Reboot, "hung"}};
    auto first = decide(s, hung, t0);
    EXPECT_EQ(first.action, CorrectiveAction::Reboot);
    for (int secs : {30, 59}) {
        auto later = decide(s, hung, t0 + std::chrono::seconds(secs));
        EXPECT_FALSE(later.healthy);
        EXPECT_EQ(later.action, CorrectiveAction::None);
        EXPECT_EQ(later.log_msg, first.log_msg);
    }
    EXPECT_EQ(decide(s, hung, t0 + std::chrono::seconds(61)).action, CorrectiveAction::Reboot);
}

TEST(RepeatSuppressor, MergeFirstThenSuppressStopAndLogReportStopThenNone) {
    RepeatSuppressor s(std::chrono::seconds(60));
    auto t0 = Clock::now();
    std::vector<HealthFinding> both = {{"a", false, CorrectiveAction::Stop, "x"},
                                       {"b", false, CorrectiveAction::Log, "y"}};
    EXPECT_EQ(decide(s, both, t0).action, CorrectiveAction::Stop);
    auto again = decide(s, both, t0 + std::chrono::seconds(1));
    EXPECT_FALSE(again.healthy);
    EXPECT_EQ(again.action, CorrectiveAction::None);  // not "log", not healthy
}

TEST(RepeatSuppressor, ANewSourceAtTheTopActionIsReported) {
    RepeatSuppressor s(std::chrono::seconds(60));
    auto t0 = Clock::now();
    decide(s, {{"a", false, CorrectiveAction::Reboot, "hung"}}, t0);
    EXPECT_EQ(decide(s, {{"a", false, CorrectiveAction::Stop, "hung"}}, t0).action, CorrectiveAction::Stop);
    EXPECT_EQ(
        decide(s, {{"a", false, CorrectiveAction::Stop, "x"}, {"b", false, CorrectiveAction::Stop, "y"}}, t0).action,
        CorrectiveAction::Stop);
    // A hang, then the same application's death: the same (source, action).
    EXPECT_EQ(decide(s, {{"b", false, CorrectiveAction::Stop, "exited"}}, t0).action, CorrectiveAction::None);
}

TEST(RepeatSuppressor, ZeroWindowNeverSuppresses) {
    RepeatSuppressor s(std::chrono::seconds(0));
    auto t0 = Clock::now();
    std::vector<HealthFinding> f = {{"a", false, CorrectiveAction::Reboot, "hung"}};
    EXPECT_EQ(decide(s, f, t0).action, CorrectiveAction::Reboot);
    EXPECT_EQ(decide(s, f, t0).action, CorrectiveAction::Reboot);
}

TEST(RepeatSuppressor, RemembersABoundedNumberOfSources) {
    RepeatSuppressor s(std::chrono::seconds(60), 100);
    auto t0 = Clock::now();
    for (int i = 0; i < 1000; ++i) decide(s, {{"app-" + std::to_string(i), false, CorrectiveAction::Log, "x"}}, t0);
    EXPECT_LE(s.size(), 100u);
}
