#include <gtest/gtest.h>

#include <thread>

#include "gsdk/log.h"

using gsdk::LogRateLimiter;

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
    LogRateLimiter limiter(std::chrono::seconds(60), 8);
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
