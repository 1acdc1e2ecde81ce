#include <gtest/gtest.h>

#include "vote_tally.h"

using namespace gsdk::heartbeat;
using gsdk::hbwire::NotificationType;
using gsdk::hbwire::VoteResult;

TEST(VoteTally, AllAcceptIsAccept) {
    VoteTally t(NotificationType::Revocable, {"a", "b"});
    EXPECT_FALSE(t.record("a", VoteResult::Accept, ""));
    EXPECT_TRUE(t.record("b", VoteResult::Accept, ""));
    EXPECT_EQ(t.result(), VoteResult::Accept);
    EXPECT_EQ(t.log_msg(), "");
}

TEST(VoteTally, OneRejectDecidesAtOnceAndNamesTheApplication) {
    VoteTally t(NotificationType::Revocable, {"a", "b", "c"});
    EXPECT_TRUE(t.record("b", VoteResult::Reject, "active calls"));
    EXPECT_EQ(t.result(), VoteResult::Reject);
    EXPECT_EQ(t.log_msg(), "rejected by b: active calls");
    t.record("a", VoteResult::Reject, "other");
    EXPECT_EQ(t.log_msg(), "rejected by b: active calls");
}

TEST(VoteTally, SilenceAtTheDeadlineIsAcceptForAVoteCompleteForANotification) {
    VoteTally vote(NotificationType::Revocable, {"a", "b"});
    vote.record("a", VoteResult::Accept, "");
    EXPECT_FALSE(vote.decided());
    EXPECT_EQ(vote.result(), VoteResult::Accept);
    EXPECT_EQ(vote.log_msg(), "1 silent until the deadline");
    VoteTally notice(NotificationType::Irrevocable, {"a"});
    EXPECT_EQ(notice.result(), VoteResult::Complete);
}

TEST(VoteTally, ARejectOfANotificationDoesNotVeto) {
    VoteTally t(NotificationType::Irrevocable, {"a"});
    EXPECT_TRUE(t.record("a", VoteResult::Reject, "no"));
    EXPECT_EQ(t.result(), VoteResult::Complete);
}

TEST(VoteTally, ErrorIsReportedUnlessSomeoneRejected) {
    VoteTally t(NotificationType::Revocable, {"event-script", "a"});
    t.record("event-script", VoteResult::Error, "exited with 3");
    EXPECT_TRUE(t.record("a", VoteResult::Accept, ""));
    EXPECT_EQ(t.result(), VoteResult::Error);
    EXPECT_EQ(t.log_msg(), "event-script failed: exited with 3");
    VoteTally r(NotificationType::Revocable, {"event-script", "a"});
    r.record("event-script", VoteResult::Error, "");
    r.record("a", VoteResult::Reject, "busy");
    EXPECT_EQ(r.result(), VoteResult::Reject);
}

TEST(VoteTally, DepartedOrUnknownParticipantsDoNotBlockOrCount) {
    VoteTally t(NotificationType::Revocable, {"a", "b"});
    EXPECT_FALSE(t.record("stranger", VoteResult::Reject, "x"));
    EXPECT_FALSE(t.withdraw("a"));
    EXPECT_TRUE(t.record("b", VoteResult::Accept, ""));
    EXPECT_EQ(t.result(), VoteResult::Accept);
}
