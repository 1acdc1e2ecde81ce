#include <gtest/gtest.h>

#include "departed_failures.h"

using namespace gsdk::heartbeat;
using gsdk::hbwire::CorrectiveAction;

namespace {
HealthFinding died(const std::string& name, const std::string& pid = "1") {
    return {name, false, CorrectiveAction::Reboot, "exited without deregistering (pid " + pid + ")"};
}
}  // namespace

TEST(DepartedFailures, OnePerNameTheNewestWins) {
    DepartedFailures f(64, std::chrono::seconds(60));
    auto t0 = gsdk::Clock::now();
    for (int i = 0; i < 20000; ++i) f.add(died("cycler-" + std::to_string(i % 64), std::to_string(i)), t0);
    EXPECT_EQ(f.size(), 64u);
    auto all = f.findings();
    ASSERT_EQ(all.size(), 64u);
    EXPECT_EQ(all.back().detail, "exited without deregistering (pid 19999)");
}

TEST(DepartedFailures, TheOldestGiveWayAtCapacity) {
    DepartedFailures f(3, std::chrono::seconds(60));
    auto t0 = gsdk::Clock::now();
    for (int i = 0; i < 5; ++i) f.add(died("a" + std::to_string(i)), t0 + std::chrono::milliseconds(i));
    auto all = f.findings();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all.front().source, "a2");
}

TEST(DepartedFailures, ExpireAndForget) {
    DepartedFailures f(10, std::chrono::seconds(60));
    auto t0 = gsdk::Clock::now();
    f.add(died("old"), t0);
    f.add(died("new"), t0 + std::chrono::seconds(30));
    EXPECT_FALSE(f.expire(t0 + std::chrono::seconds(59)));
    EXPECT_TRUE(f.expire(t0 + std::chrono::seconds(60)));
    ASSERT_EQ(f.size(), 1u);
    EXPECT_TRUE(f.forget("new"));
    EXPECT_FALSE(f.forget("new"));
    EXPECT_TRUE(f.empty());
}
