// LogRateLimit on an explicit clock: one line per cause per period, and the
// next line that passes says how many were held back.
#include <gtest/gtest.h>

#include "gsdk/log_rate_limit.h"

using gsdk::Clock;
using gsdk::LogRateLimit;
using gsdk::Millis;

TEST(LogRateLimit, OneLinePerCausePerSecondThenTheCountOfSuppressed) {
    LogRateLimit limit;
    auto t0 = Clock::time_point() + Millis(5000);
    uint64_t held = 99;
    EXPECT_TRUE(limit.allow_at("vm1 protocol", t0, &held));
    EXPECT_EQ(held, 0u);
    for (int i = 1; i <= 50; ++i) EXPECT_FALSE(limit.allow_at("vm1 protocol", t0 + Millis(i * 10), &held));
    // Another cause is not held back by the first.
    EXPECT_TRUE(limit.allow_at("vm2 protocol", t0 + Millis(500), &held));
    EXPECT_EQ(held, 0u);
    EXPECT_TRUE(limit.allow_at("vm1 protocol", t0 + Millis(1000), &held));
    EXPECT_EQ(held, 50u);
    EXPECT_EQ(LogRateLimit::suppressed_note(held), " (50 similar lines suppressed)");
    EXPECT_EQ(LogRateLimit::suppressed_note(1), " (1 similar line suppressed)");
    EXPECT_EQ(LogRateLimit::suppressed_note(0), "");
    // The count starts again after it was reported.
    EXPECT_FALSE(limit.allow_at("vm1 protocol", t0 + Millis(1500), &held));
    EXPECT_TRUE(limit.allow_at("vm1 protocol", t0 + Millis(2100), &held));
    EXPECT_EQ(held, 1u);
}

TEST(LogRateLimit, BurstLetsSeveralLinesThroughPerPeriod) {
    LogRateLimit limit(Millis(1000), 3);
    auto t0 = Clock::time_point() + Millis(5000);
    int passed = 0;
    for (int i = 0; i < 10; ++i) passed += limit.allow_at("k", t0 + Millis(i), nullptr);
    EXPECT_EQ(passed, 3);
    uint64_t held = 0;
    EXPECT_TRUE(limit.allow_at("k", t0 + Millis(1000), &held));
    EXPECT_EQ(held, 7u);
}

TEST(LogRateLimit, TheTableOfCausesIsBounded) {
    LogRateLimit limit(Millis(1000), 1, 16);
    auto t0 = Clock::time_point() + Millis(5000);
    for (int i = 0; i < 1000; ++i) limit.allow_at("peer-" + std::to_string(i), t0 + Millis(i), nullptr);
    EXPECT_LE(limit.keys(), 16u);
}
