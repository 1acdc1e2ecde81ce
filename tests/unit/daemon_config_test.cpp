#include <gtest/gtest.h>

#include "daemon_config.h"

using namespace gsdk::heartbeat;
using gsdk::hbwire::CorrectiveAction;

TEST(DaemonConfig, LegacyKeysAreAccepted) {
    DaemonConfig c;
    auto problems = apply_config_text(&c,
                                      "HB_INTERVAL=400\nCORRECTIVE_ACTION=stop\nVOTE=5\nSHUTDOWN_NOTICE=6\n"
                                      "SUSPEND_NOTICE=7\nRESUME_NOTICE=8\nRESTART=90\nHEALTH_CHECK_INTERVAL=30\n"
                                      "HEALTH_CHECK_SCRIPT=/x/health.sh\nEVENT_NOTIFICATION_SCRIPT=/x/event.sh\n",
                                      "legacy.conf");
    EXPECT_TRUE(problems.empty()) << problems[0];
    EXPECT_EQ(c.heartbeat_interval_ms, 400);
    EXPECT_EQ(c.corrective_action, CorrectiveAction::Stop);
    EXPECT_EQ(c.vote_secs, 5);
    EXPECT_EQ(c.shutdown_notice_secs, 6);
    EXPECT_EQ(c.suspend_notice_secs, 7);
    EXPECT_EQ(c.resume_notice_secs, 8);
    EXPECT_EQ(c.restart_secs, 90);
    EXPECT_EQ(c.health_check_interval_secs, 30);
    EXPECT_EQ(c.health_check_script, "/x/health.sh");
    EXPECT_EQ(c.event_notification_script, "/x/event.sh");
}

TEST(DaemonConfig, BadValuesAndUnknownKeysAreNamedAndDefaultsKept) {
    DaemonConfig c;
    auto problems = apply_config_text(&c, "HB_INTERVAL=5\nCORRECTIVE_ACTION=explode\nFOO=1\n", "bad.conf");
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_NE(problems[0].find("HB_INTERVAL=5"), std::string::npos);
    EXPECT_NE(problems[1].find("CORRECTIVE_ACTION=explode"), std::string::npos);
    EXPECT_NE(problems[2].find("unknown key FOO"), std::string::npos);
    EXPECT_EQ(c.heartbeat_interval_ms, 1000);
    EXPECT_EQ(c.corrective_action, CorrectiveAction::Reboot);
}
