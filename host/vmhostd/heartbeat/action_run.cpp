#include "action_run.h"

#include <cctype>
#include <chrono>

#include "gsdk/log.h"

namespace vmhost {

namespace {

constexpr gsdk::Millis kDefaultRestartWait{60000};

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Our guest daemon words a veto "rejected by APP: REASON"; other guests may not.
void split_veto(const std::string& log_msg, const std::string& guest, std::string* by, std::string* reason) {
    const std::string prefix = "rejected by ";
    if (log_msg.rfind(prefix, 0) == 0) {
        auto colon = log_msg.find(':', prefix.size());
        if (colon != std::string::npos) {
            *by = log_msg.substr(prefix.size(), colon - prefix.size());
            *reason = log_msg.substr(colon + 1);
            if (!reason->empty() && (*reason)[0] == ' ') reason->erase(0, 1);
            return;
        }
        *by = log_msg.substr(prefix.size());
        *reason = "no reason given";
        return;
    }
    *by = guest;
    *reason = log_msg.empty() ? "no reason given" : log_msg;
}

bool restarts_guest(HostAction a) {
    return a == HostAction::Stop || a == HostAction::Reboot || a == HostAction::ColdMigrate;
}

bool leaves_guest_paused(HostAction a) { return a == HostAction::Pause || a == HostAction::Suspend; }

}  // namespace

ActionRun::ActionRun(gsdk::EventLoop& loop, std::string vm, HostAction action, HeartbeatSession& session,
                     VmExecutor& executor, EventLog& events, Finished finished, OrphanDone orphan_done)
    : vm_(std::move(vm)), action_(action), plan_(plan_for(action)), session_(session), executor_(executor),
      events_(events), finished_(std::move(finished)), orphan_done_(std::move(orphan_done)), timer_(loop, [this] {
          if (phase_ == Phase::WaitInit)
              wait_init_timed_out();
          else
              notice_timed_out();
      }) {
    result_.set_vm(vm_);
    result_.set_action(to_string(action));
}

void ActionRun::step(const std::string& name, const std::string& detail, gsdk::LogLevel level) {
    auto* s = result_.add_steps();
    s->set_time_ms(now_ms());
    s->set_step(name);
    s->set_detail(detail);
    events_.record(vm_, name, std::string(to_string(action_)) + ": " + detail, level);
}

gsdk::Millis ActionRun::notice_timeout(NoticeTimeout which) const {
    const auto& g = session_.guest();
    if (!g) return gsdk::Millis(0);
    int64_t secs = 0;
    switch (which) {
    case NoticeTimeout::Shutdown:
        secs = g->shutdown_notice_secs;
        break;
    case NoticeTimeout::Suspend:
        secs = g->suspend_notice_secs;
        break;
    case NoticeTimeout::Resume:
        secs = g->resume_notice_secs;
        break;
    }
    return gsdk::Millis(std::max<int64_t>(0, secs) * 1000);
}

void ActionRun::start() {
    step("action", "requested (heartbeat " + std::string(session_.state_name()) + ")", gsdk::LogLevel::Notice);
    if (plan_.vote && !session_.can_notify()) {
        result_.set_without_vote(true);
        step("note", std::string("no active heartbeat session (") + session_.state_name() +
                         "): proceeding without vote or notification");
        execute();
        return;
    }
    if (plan_.vote)
        vote();
    else if (plan_.pre_notify)
        pre_notify();
    else
        execute();
}

bool ActionRun::send_notify(Phase phase, hb::EventType event, hb::NotificationType type, NoticeTimeout which) {
    gsdk::Millis timeout = phase == Phase::Vote && session_.guest()
                               ? gsdk::Millis(std::max<int64_t>(0, session_.guest()->vote_secs) * 1000)
                               : notice_timeout(which);
    int64_t id = session_.notify(event, type, timeout);
    const char* what = phase == Phase::Vote ? "vote" : phase == Phase::PreNotify ? "pre-notify" : "post-notify";
    if (id < 0) {
        step(what, std::string(hb::to_string(event)) + " not sent: heartbeat socket not connected");
        return false;
    }
    phase_ = phase;
    pending_invocation_ = id;
    pending_event_ = event;
    step(what, std::string(hb::to_string(event)) + " " + hb::to_string(type) + " sent, invocation " +
                   std::to_string(id) + ", timeout " + std::to_string(timeout.count()) + " ms");
    timer_.start(timeout);
    return true;
}

void ActionRun::vote() {
    if (!send_notify(Phase::Vote, plan_.begin_event, hb::NotificationType::Revocable, plan_.begin_timeout)) {
        result_.set_without_vote(true);
        execute();
    }
}

void ActionRun::pre_notify() {
    if (!plan_.pre_notify || !session_.can_notify() ||
        !send_notify(Phase::PreNotify, plan_.begin_event, hb::NotificationType::Irrevocable, plan_.begin_timeout))
        execute();
}

void ActionRun::on_action_response(const hb::ActionResponse& r) {
    bool waiting = phase_ == Phase::Vote || phase_ == Phase::PreNotify || phase_ == Phase::PostNotify;
    if (!waiting || r.invocation_id != pending_invocation_) {
        events_.record(vm_, "protocol",
                       "action_response for invocation " + std::to_string(r.invocation_id) + " (" +
                           hb::to_string(r.event_type) + ") matches no pending notification; dropped",
                       gsdk::LogLevel::Warning, EventOrigin::Guest);
        return;
    }
    timer_.stop();
    std::string detail = std::string(hb::to_string(r.event_type)) + " " + hb::to_string(r.notification_type) + ": " +
                         hb::to_string(r.vote_result) + (r.log_msg.empty() ? "" : " (" + r.log_msg + ")");
    Phase phase = phase_;
    if (phase == Phase::Vote) {
        step("vote", "response " + detail);
        if (r.vote_result == hb::VoteResult::Reject) {
            std::string by, reason;
            split_veto(r.log_msg, session_.guest() ? session_.guest()->name : vm_, &by, &reason);
            finish(control::REJECTED, reason, by);
            return;
        }
        pre_notify();
    } else if (phase == Phase::PreNotify) {
        step("pre-notify", "response " + detail);
        execute();
    } else {
        step("post-notify", "response " + detail);
        finish(control::ACCEPTED, "");
    }
}

void ActionRun::notice_timed_out() {
    std::string event = hb::to_string(pending_event_);
    switch (phase_) {
    case Phase::Vote:
        step("vote", event + ": no answer within the vote timeout, counted as accept");
        pre_notify();
        break;
    case Phase::PreNotify:
        step("pre-notify", event + ": no answer within the notice timeout, counted as complete");
        execute();
        break;
    case Phase::PostNotify:
        step("post-notify", event + ": no answer within the notice timeout, counted as complete");
        finish(control::ACCEPTED, "");
        break;
    default:
        break;
    }
}

void ActionRun::execute() {
    phase_ = Phase::Execute;
    // The VM is about to be paused or moved: silence is expected, not a loss.
    session_.suspend_challenges();
    step("execute", "carrying out through " + executor_.describe());
    std::weak_ptr<bool> alive = alive_;
    // Copied: this run may be gone (aborted) when the executor finishes.
    OrphanDone orphan = orphan_done_;
    HostAction action = action_;
    executor_.carry_out(to_string(action_), [this, alive, orphan, action](const ExecutorResult& r) {
        if (alive.expired()) {
            if (orphan) orphan(action, r);
            return;
        }
        executed(r);
    });
}

void ActionRun::executed(const ExecutorResult& r) {
    step("executor", (r.ok ? "done: " : "failed: ") + r.detail, r.ok ? gsdk::LogLevel::Info : gsdk::LogLevel::Error);
    settle_session(session_, action_, r.ok);
    if (!r.ok) {
        finish(control::FAILED, r.detail);
        return;
    }
    if (restarts_guest(action_)) {
        if (!plan_.end_event) {
            finish(control::ACCEPTED, "");
            return;
        }
        // Cold migration: the end event goes to the guest's next session.
        phase_ = Phase::WaitInit;
        int64_t secs = session_.guest() ? session_.guest()->restart_secs : 0;
        gsdk::Millis wait = secs > 0 ? gsdk::Millis(secs * 1000) : kDefaultRestartWait;
        step("wait-init", "waiting up to " + std::to_string(wait.count()) + " ms for the guest to restart");
        timer_.start(wait);
        return;
    }
    post_notify();
}

void settle_session(HeartbeatSession& session, HostAction action, bool executor_ok) {
    if (!executor_ok) {
        // The VM is presumably as it was: keep supervising it.
        session.resume_challenges();
    } else if (restarts_guest(action)) {
        session.expect_restart(std::string("host action ") + to_string(action));
    } else if (!leaves_guest_paused(action)) {
        session.resume_challenges();
    }
}

void ActionRun::on_guest_init() {
    if (phase_ != Phase::WaitInit) return;
    timer_.stop();
    step("wait-init", "guest started a new session");
    post_notify();
}

void ActionRun::wait_init_timed_out() {
    step("wait-init", "the guest did not start a new session within its restart time", gsdk::LogLevel::Warning);
    post_notify();
}

void ActionRun::post_notify() {
    if (!plan_.end_event) {
        finish(control::ACCEPTED, "");
        return;
    }
    if (!session_.can_notify()) {
        step("post-notify", std::string(hb::to_string(*plan_.end_event)) + " not sent: no active heartbeat session (" +
                                session_.state_name() + ")");
        finish(control::ACCEPTED, "");
        return;
    }
    if (!send_notify(Phase::PostNotify, *plan_.end_event, hb::NotificationType::Irrevocable, plan_.end_timeout))
        finish(control::ACCEPTED, "");
}

void ActionRun::abort(const std::string& why) {
    if (phase_ == Phase::Done) return;
    // Challenges stay as they are: a newer run on a suspended session goes
    // straight to its own executor, which settles them.
    finish(control::ABORTED, why);
}

void ActionRun::finish(control::Outcome outcome, const std::string& reason, const std::string& rejected_by) {
    timer_.stop();
    phase_ = Phase::Done;
    alive_.reset();
    result_.set_outcome(outcome);
    result_.set_reason(reason);
    result_.set_rejected_by(rejected_by);
    std::string summary = control::Outcome_Name(outcome);
    for (auto& c : summary) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (outcome == control::REJECTED)
        summary += " by " + rejected_by + ": " + reason;
    else if (!reason.empty())
        summary += ": " + reason;
    if (result_.without_vote()) summary += " (without vote: no active heartbeat session)";
    step("action", summary, gsdk::LogLevel::Notice);
    Finished f = std::move(finished_);
    if (f) f(result_);
}

}  // namespace vmhost
