// The host action table of docs/protocols/heartbeat.md, as vmhostd applies it.
#include <gtest/gtest.h>

#include "heartbeat/action_plan.h"

using namespace vmhost;
using gsdk::hbwire::EventType;

TEST(HostActionPlan, MatchesTheProtocolsActionTable) {
    auto stop = plan_for(HostAction::Stop);
    EXPECT_TRUE(stop.vote);
    EXPECT_TRUE(stop.pre_notify);
    EXPECT_EQ(stop.begin_timeout, NoticeTimeout::Shutdown);
    EXPECT_FALSE(stop.end_event);
    auto unpause = plan_for(HostAction::Unpause);
    EXPECT_FALSE(unpause.vote);
    EXPECT_FALSE(unpause.pre_notify);
    EXPECT_EQ(unpause.end_event, EventType::Unpause);
    auto lm = plan_for(HostAction::LiveMigrate);
    EXPECT_EQ(lm.begin_event, EventType::LiveMigrateBegin);
    EXPECT_EQ(lm.begin_timeout, NoticeTimeout::Suspend);
    EXPECT_EQ(lm.end_event, EventType::LiveMigrateEnd);
    EXPECT_EQ(lm.end_timeout, NoticeTimeout::Resume);
    HostAction a;
    EXPECT_TRUE(from_string("cold-migrate", &a));
    EXPECT_EQ(a, HostAction::ColdMigrate);
    EXPECT_FALSE(from_string("teleport", &a));
}
