// One host action carried out on one VM, following the protocol's action
// table (plan_for, action_plan.h): vote -> pre-notify -> executor -> (wait for the
// guest's new init) -> post-notify. Every step lands in the event log and in
// the result returned to the control client.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "action_plan.h"
#include "event_log.h"
#include "gsdk/event_loop.h"
#include "heartbeat_session.h"
#include "vm_executor.h"
#include "vmhost_control.pb.h"

namespace vmhost {

namespace control = gsdk::vmhost::control;

// What the heartbeat session does once the executor has acted: wait for a
// restart, stay suspended (VM paused), or resume challenging.
void settle_session(HeartbeatSession& session, HostAction action, bool executor_ok);

class ActionRun {
public:
    using Finished = std::function<void(const control::ActionResult& result)>;
    // The executor of an aborted run finished (its result is only recorded).
    using OrphanDone = std::function<void(HostAction action, const ExecutorResult& result)>;

    ActionRun(gsdk::EventLoop& loop, std::string vm, HostAction action, HeartbeatSession& session, VmExecutor& executor,
              EventLog& events, Finished finished, OrphanDone orphan_done);

    void start();
    // Ends the run with outcome ABORTED (a newer action, or shutdown).
    void abort(const std::string& why);
    void on_action_response(const hb::ActionResponse& response);
    void on_guest_init();
    bool finished() const { return phase_ == Phase::Done; }
    bool executing() const { return phase_ == Phase::Execute; }
    HostAction action() const { return action_; }

private:
    enum class Phase { Idle, Vote, PreNotify, Execute, WaitInit, PostNotify, Done };

    void vote();
    void pre_notify();
    void execute();
    void executed(const ExecutorResult& result);
    void post_notify();
    // Sends one action_notify and arms its timeout; `phase` says what answers mean.
    bool send_notify(Phase phase, hb::EventType event, hb::NotificationType type, NoticeTimeout which);
    void notice_timed_out();
    void wait_init_timed_out();
    void finish(control::Outcome outcome, const std::string& reason, const std::string& rejected_by = "");
    void step(const std::string& name, const std::string& detail, gsdk::LogLevel level = gsdk::LogLevel::Info);
    gsdk::Millis notice_timeout(NoticeTimeout which) const;

    std::string vm_;
    HostAction action_;
    ActionPlan plan_;
    HeartbeatSession& session_;
    VmExecutor& executor_;
    EventLog& events_;
    Finished finished_;
    OrphanDone orphan_done_;
    control::ActionResult result_;
    Phase phase_ = Phase::Idle;
    int64_t pending_invocation_ = 0;
    hb::EventType pending_event_ = hb::EventType::Unknown;
    gsdk::Timer timer_;
    // Executor callbacks check this: the run may be gone (aborted) by then.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vmhost
