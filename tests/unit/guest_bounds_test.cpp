// The bounds vmhostd puts on what a guest sends (guest_bounds.h).
#include <gtest/gtest.h>

#include <climits>

#include "heartbeat/guest_bounds.h"

using namespace vmhost;
namespace hb = gsdk::hbwire;

TEST(GuestBounds, InitNumbersAreClampedAndEachClampIsNamed) {
    hb::Init init{1, "g", INT64_MAX, INT64_MIN, -1, 3601, 3602, 86401, hb::CorrectiveAction::Reboot};
    auto notes = bound_init(&init);
    EXPECT_EQ(init.heartbeat_interval_ms, 3600 * 1000);
    EXPECT_EQ(init.vote_secs, 0);
    EXPECT_EQ(init.shutdown_notice_secs, 0);
    EXPECT_EQ(init.suspend_notice_secs, 3601);  // in range: unchanged
    EXPECT_EQ(init.resume_notice_secs, 3601);
    EXPECT_EQ(init.restart_secs, 86401);
    ASSERT_EQ(notes.size(), 4u);
    EXPECT_EQ(notes[0], "heartbeat_interval_ms 9223372036854775807 out of range 100..3600000, using 3600000");
    EXPECT_EQ(notes[1], "vote_secs -9223372036854775808 out of range 0..3601, using 0");
    // Products the host computes from the clamped values cannot overflow.
    EXPECT_LT(init.restart_secs * 1000, INT32_MAX);
}

TEST(GuestBounds, OurGuestsLargestSettingsPassUnchanged) {
    // guest-heartbeatd: HB_INTERVAL <= 3600000, VOTE and notices <= 3600,
    // RESTART <= 86400, each announced + 1 s.
    hb::Init init{1, "guest", 3600000, 3601, 3601, 3601, 3601, 86401, hb::CorrectiveAction::Reboot};
    EXPECT_TRUE(bound_init(&init).empty());
}

TEST(GuestBounds, ApplicationListsAreSortedCutAndMarked) {
    std::vector<hb::ApplicationStatus> apps;
    for (int i = 1100; i > 0; --i) apps.push_back({"app-" + std::to_string(10000 + i), "healthy"});
    apps.push_back({std::string(100, 'a'), std::string(40, 'h')});
    std::string cut = bound_applications(&apps);
    EXPECT_EQ(apps.size(), kMaxApplications);
    EXPECT_EQ(apps[0].name, std::string(64, 'a'));
    EXPECT_EQ(apps[0].state.size(), 16u);
    EXPECT_EQ(apps[1].name, "app-10001");
    EXPECT_EQ(cut, "1101 applications listed, the first 1024 kept; 1 name(s) cut to 64 bytes");
    std::vector<hb::ApplicationStatus> few{{"b", "healthy"}, {"a", "hung"}};
    EXPECT_EQ(bound_applications(&few), "");
    EXPECT_EQ(few[0].name, "a");
}

TEST(GuestBounds, LogMessagesAreOneLineOfAtMost512Bytes) {
    EXPECT_EQ(bound_log_msg(std::string(5000, 'x')).size(), 512u);
    EXPECT_EQ(bound_log_msg("two\nlines"), "two lines");
}
