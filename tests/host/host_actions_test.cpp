// Host actions through vmhostctl: votes, notifications, executor, outcomes,
// as the fake guest sees them on its heartbeat socket.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "host_fixture.h"

namespace hosttest {
namespace {

using CA = hb::CorrectiveAction;
using ET = hb::EventType;
using NT = hb::NotificationType;

class HostActions : public HostFixture {
protected:
    // The next action_notify, answering challenges meanwhile.
    std::optional<hb::ActionNotify> next_notify() {
        auto m = guest->wait_for(is<hb::ActionNotify>());
        if (!m) return std::nullopt;
        return std::get<hb::ActionNotify>(m->body);
    }
};

TEST_F(HostActions, VoteRejectVetoesTheActionAndNamesTheApplication) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 5, 3));
    auto run = ctl_async({"action", "vm1", "stop"});
    auto vote = next_notify();
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->event_type, ET::Stop);
    EXPECT_EQ(vote->notification_type, NT::Revocable);
    EXPECT_EQ(vote->timeout_ms, 5000);
    guest->respond(*vote, hb::VoteResult::Reject, "rejected by vnf-a: active calls");
    auto r = pump(run);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("vm1 stop: rejected by vnf-a: active calls"), std::string::npos) << r.out;
    EXPECT_TRUE(marker_lines().empty()) << "a vetoed action must not be carried out";
    // JSON form of the veto for scripts.
    auto run2 = ctl_async({"--json", "action", "vm1", "reboot"});
    vote = next_notify();
    ASSERT_TRUE(vote);
    guest->respond(*vote, hb::VoteResult::Reject, "rejected by vnf-b: upgrading");
    r = pump(run2);
    EXPECT_EQ(r.exit_code, 1);
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["outcome"], "rejected");
    EXPECT_EQ(j["rejected_by"], "vnf-b");
    EXPECT_EQ(j["reason"], "upgrading");
}

TEST_F(HostActions, SilentVoteAndNoticeCountAsAcceptAfterTheirTimeouts) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 1, 1));
    auto run = ctl_async({"action", "vm1", "stop"});
    auto vote = next_notify();
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->notification_type, NT::Revocable);
    EXPECT_EQ(vote->timeout_ms, 1000);
    auto notice = next_notify();  // no answer to the vote: the pre-notification follows
    ASSERT_TRUE(notice);
    EXPECT_EQ(notice->event_type, ET::Stop);
    EXPECT_EQ(notice->notification_type, NT::Irrevocable);
    EXPECT_EQ(notice->timeout_ms, 1000);
    auto r = pump(run);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("vm1 stop: accepted"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("counted as accept"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("counted as complete"), std::string::npos) << r.out;
    EXPECT_EQ(marker_lines(), std::vector<std::string>{"vm1 stop"});
    EXPECT_EQ(vm_status()["heartbeat"], "restarting");
}

TEST_F(HostActions, LiveMigrationRunsVotePreNotifyExecutorPostNotifyInOrder) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 4, 3));
    auto run = ctl_async({"action", "vm1", "live-migrate"});
    auto vote = next_notify();
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->event_type, ET::LiveMigrateBegin);
    EXPECT_EQ(vote->notification_type, NT::Revocable);
    EXPECT_EQ(vote->timeout_ms, 4000);  // vote_secs
    EXPECT_TRUE(marker_lines().empty());
    guest->respond(*vote, hb::VoteResult::Accept);
    auto pre = next_notify();
    ASSERT_TRUE(pre);
    EXPECT_EQ(pre->event_type, ET::LiveMigrateBegin);
    EXPECT_EQ(pre->notification_type, NT::Irrevocable);
    EXPECT_EQ(pre->timeout_ms, 3000);  // suspend_notice_secs
    EXPECT_NE(pre->invocation_id, vote->invocation_id);
    EXPECT_TRUE(marker_lines().empty()) << "executor ran before the pre-notification was complete";
    guest->respond(*pre, hb::VoteResult::Complete);
    auto post = next_notify();
    ASSERT_TRUE(post);
    EXPECT_EQ(marker_lines(), std::vector<std::string>{"vm1 live-migrate"}) << "post-notify before the executor";
    EXPECT_EQ(post->event_type, ET::LiveMigrateEnd);
    EXPECT_EQ(post->notification_type, NT::Irrevocable);
    EXPECT_EQ(post->timeout_ms, 3000);  // resume_notice_secs
    guest->respond(*post, hb::VoteResult::Complete);
    auto r = pump(run);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("vm1 live-migrate: accepted"), std::string::npos) << r.out;
    // Supervision resumed after the migration.
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c);
    EXPECT_EQ(vm_status()["heartbeat"], "active");
    EXPECT_TRUE(event_details("loss").empty());
}

TEST_F(HostActions, NewActionAbortsTheOneInProgress) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 30, 1));
    auto first = ctl_async({"action", "vm1", "reboot"});
    auto vote = next_notify();
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->event_type, ET::Reboot);
    auto second = ctl_async({"action", "vm1", "pause"});
    auto r1 = pump(first);
    EXPECT_EQ(r1.exit_code, 2) << r1.out;
    EXPECT_NE(r1.out.find("vm1 reboot: aborted: superseded by pause"), std::string::npos) << r1.out;
    auto vote2 = next_notify();
    ASSERT_TRUE(vote2);
    EXPECT_EQ(vote2->event_type, ET::Pause);
    // A late answer to the aborted vote changes nothing.
    guest->respond(*vote, hb::VoteResult::Reject, "rejected by vnf-a: too late");
    guest->respond(*vote2, hb::VoteResult::Accept);
    auto pre = next_notify();
    ASSERT_TRUE(pre);
    guest->respond(*pre, hb::VoteResult::Complete);
    auto r2 = pump(second);
    EXPECT_EQ(r2.exit_code, 0) << r2.out;
    EXPECT_EQ(marker_lines(), std::vector<std::string>{"vm1 pause"});
    // Paused by the host: no challenges, so no false loss.
    EXPECT_EQ(vm_status()["heartbeat"], "suspended");
    EXPECT_FALSE(guest->next_challenge(3 * kInterval));
    // Unpause: executor first (the VM must run to hear it), then the post-notification.
    auto third = ctl_async({"action", "vm1", "unpause"});
    auto post = next_notify();
    ASSERT_TRUE(post);
    EXPECT_EQ(post->event_type, ET::Unpause);
    EXPECT_EQ(post->notification_type, NT::Irrevocable);
    guest->respond(*post, hb::VoteResult::Complete);
    EXPECT_EQ(pump(third).exit_code, 0);
    EXPECT_EQ(marker_lines(), (std::vector<std::string>{"vm1 pause", "vm1 unpause"}));
    EXPECT_TRUE(guest->next_challenge());
}

TEST_F(HostActions, AbortDuringTheExecutorLeavesTheNewerActionInCharge) {
    // live-migrate blocks in the executor until the test creates "release".
    write_file(dir.file("executor.sh"),
               "#!/bin/sh\necho \"$1 $2\" >> '" + marker() +
                   "'\n"
                   "if [ \"$2\" = live-migrate ]; then\n"
                   "  for i in $(seq 300); do [ -e '" +
                   dir.file("release") +
                   "' ] && break; sleep 0.1; done\n"
                   "fi\n",
               true);
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 5, 3));
    auto migrate = ctl_async({"action", "vm1", "live-migrate"});
    auto vote = next_notify();
    ASSERT_TRUE(vote);
    guest->respond(*vote, hb::VoteResult::Accept);
    auto pre = next_notify();
    ASSERT_TRUE(pre);
    guest->respond(*pre, hb::VoteResult::Complete);
    ASSERT_TRUE(eventually([&] { return marker_lines().size() == 1; }));
    // The VM is "being migrated": a pause now goes ahead without vote.
    auto r = ctl({"action", "vm1", "pause"});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("without vote"), std::string::npos) << r.out;
    auto m = pump(migrate);
    EXPECT_EQ(m.exit_code, 2);
    EXPECT_NE(m.out.find("aborted: superseded by pause"), std::string::npos) << m.out;
    write_file(dir.file("release"), "");
    ASSERT_TRUE(eventually([&] {
        for (const auto& d : event_details("executor"))
            if (d.find("live-migrate (aborted action) done") != std::string::npos) return true;
        return false;
    }));
    // The late migration result does not undo the pause: still no challenges.
    EXPECT_EQ(vm_status()["heartbeat"], "suspended");
    EXPECT_FALSE(guest->next_challenge(3 * kInterval));
    EXPECT_TRUE(event_details("loss").empty());
}

TEST_F(HostActions, ColdMigrationEndIsSentAfterTheGuestRestarts) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 1, 1, 20));
    auto run = ctl_async({"action", "vm1", "cold-migrate"});
    auto vote = next_notify();
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->event_type, ET::ColdMigrateBegin);
    guest->respond(*vote, hb::VoteResult::Accept);
    auto pre = next_notify();
    ASSERT_TRUE(pre);
    guest->respond(*pre, hb::VoteResult::Complete);
    ASSERT_TRUE(eventually([&] { return marker_lines().size() == 1; }));
    EXPECT_EQ(marker_lines()[0], "vm1 cold-migrate");
    ASSERT_TRUE(eventually([&] { return vm_status()["heartbeat"] == "restarting"; }));
    // The "migrated" guest starts a new session; only then comes the end event.
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 1, 2, 20));
    auto post = next_notify();
    ASSERT_TRUE(post);
    EXPECT_EQ(post->event_type, ET::ColdMigrateEnd);
    EXPECT_EQ(post->timeout_ms, 2000);
    guest->respond(*post, hb::VoteResult::Complete);
    auto r = pump(run);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("guest started a new session"), std::string::npos) << r.out;
}

TEST_F(HostActions, WithoutHeartbeatSessionTheActionProceedsWithoutVote) {
    // Connected, but the guest never sent init.
    auto r = ctl({"action", "vm1", "reboot"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("without vote"), std::string::npos) << r.out;
    EXPECT_EQ(marker_lines(), std::vector<std::string>{"vm1 reboot"});
    EXPECT_FALSE(guest->wait_for(is<hb::ActionNotify>(), 300ms));
}

TEST_F(HostActions, FailingExecutorGivesOutcomeFailed) {
    write_file(dir.file("executor.sh"), "#!/bin/sh\necho 'no such VM' >&2\nexit 4\n", true);
    auto r = ctl({"action", "vm1", "resize"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("vm1 resize: failed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("status 4"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no such VM"), std::string::npos) << r.out;
}

TEST_F(HostActions, BadRequestsGetAClearError) {
    auto r = ctl({"action", "vm9", "stop"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown VM \"vm9\""), std::string::npos) << r.err;
    r = ctl({"action", "vm1", "explode"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown action \"explode\""), std::string::npos) << r.err;
    r = ctl({"events", "vm9"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown VM"), std::string::npos) << r.err;
    EXPECT_TRUE(daemon.running());
}

}  // namespace
}  // namespace hosttest
