// gsdk::LogRateLimiter: one line per cause per period (or a burst), the
// count of lines held back, and a bounded table of causes.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "gsdk/log.h"

using gsdk::LogRateLimiter;
using Clock = gsdk::LogRateLimiter::Clock;
using Millis = std::chrono::milliseconds;

TEST(LogRateLimiter, OneLinePerKeyPerPeriodThenTheCountOfTheRest) {
    LogRateLimiter limiter(std::chrono::milliseconds(200));
    uint64_t suppressed = 99;
    EXPECT_TRUE(limiter.allow("a", &suppressed));
    EXPECT_EQ(suppressed, 0u);
    for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.allow("a", &suppressed));
    EXPECT_TRUE(limiter.allow("b", &suppressed)) << "another cause has its own line";
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    EXPECT_TRUE(limiter.allow("a", &suppressed));
    EXPECT_EQ(suppressed, 1000u);
}

TEST(LogRateLimiter, ManyCausesShareOneLineBeyondTheKeyLimit) {
    LogRateLimiter limiter(std::chrono::seconds(60), 1, 8);
    uint64_t suppressed = 0;
    int written = 0;
    for (int i = 0; i < 10000; ++i) written += limiter.allow("cause-" + std::to_string(i), &suppressed);
    EXPECT_LE(limiter.keys(), 8u);
    EXPECT_EQ(written, 9);  // the first 8 causes, then one line for all the others
}

TEST(LogRateLimiter, TheMacroWritesTheCountIntoTheLine) {
    gsdk::log_init("ratelimit-test", gsdk::LogLevel::Info);
    testing::internal::CaptureStderr();
    for (int i = 0; i < 50; ++i) LOG_RATELIMITED(gsdk::LogLevel::Warning, "flood", "flood line %d", i);
    std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("flood line 0"), std::string::npos) << out;
    EXPECT_EQ(out.find("flood line 1"), std::string::npos) << out;
}

TEST(LogRateLimiterAtTime, OneLinePerCausePerSecondThenTheCountOfSuppressed) {
    LogRateLimiter limit;
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
    EXPECT_EQ(LogRateLimiter::suppressed_note(held), " (50 similar lines suppressed)");
    EXPECT_EQ(LogRateLimiter::suppressed_note(1), " (1 similar line suppressed)");
    EXPECT_EQ(LogRateLimiter::suppressed_note(0), "");
    // The count starts again after it was reported.
    EXPECT_FALSE(limit.allow_at("vm1 protocol", t0 + Millis(1500), &held));
    EXPECT_TRUE(limit.allow_at("vm1 protocol", t0 + Millis(2100), &held));
    EXPECT_EQ(held, 1u);
}

TEST(LogRateLimiterAtTime, BurstLetsSeveralLinesThroughPerPeriod) {
    LogRateLimiter limit(Millis(1000), 3);
    auto t0 = Clock::time_point() + Millis(5000);
    int passed = 0;
    for (int i = 0; i < 10; ++i) passed += limit.allow_at("k", t0 + Millis(i), nullptr);
    EXPECT_EQ(passed, 3);
    uint64_t held = 0;
    EXPECT_TRUE(limit.allow_at("k", t0 + Millis(1000), &held));
    EXPECT_EQ(held, 7u);
}

TEST(LogRateLimiterAtTime, TheTableOfCausesIsBounded) {
    LogRateLimiter limit(Millis(1000), 1, 16);
    auto t0 = Clock::time_point() + Millis(5000);
    for (int i = 0; i < 1000; ++i) limit.allow_at(std::string("peer-") + std::to_string(i), t0 + Millis(i), nullptr);
    EXPECT_LE(limit.keys(), 16u);
}
