#include "supervised_vm.h"

#include "observed_executor.h"

namespace vmhost {

SupervisedVm::SupervisedVm(gsdk::EventLoop& loop, gsdk::ChildProcesses& children, EventLog& events, VmConfig config)
    : loop_(loop), events_(events), config_(std::move(config)),
      executor_(std::make_unique<ObservedExecutor>(config_.name,
                                                   make_executor(loop, children, config_.name, config_.executor),
                                                   [this](const VmChange& c) { report(c); })),
      session_(loop, config_.name, config_.heartbeat, events,
               HeartbeatSession::Hooks{
                   [this](hb::CorrectiveAction a, const std::string& why) { apply_corrective(a, why); },
                   [this](const hb::ActionResponse& r) {
                       if (action_ && !action_->finished())
                           action_->on_action_response(r);
                       else
                           events_.record(config_.name, "protocol",
                                          "action_response for invocation " + std::to_string(r.invocation_id) +
                                              " while no action is in progress; dropped",
                                          gsdk::LogLevel::Warning, EventOrigin::Guest);
                   },
                   [this] {
                       if (action_ && !action_->finished()) action_->on_guest_init();
                       report(VmChange{VmChange::Kind::HeartbeatUp, config_.name, "", "", -1});
                   },
                   [this](const std::string& why) {
                       report(VmChange{VmChange::Kind::HeartbeatLost, config_.name, "", why, -1});
                   }}),
      reaper_(loop, [this] { done_.clear(); }) {}

void SupervisedVm::start() {
    events_.record(config_.name, "supervise",
                   "heartbeat " + config_.heartbeat.path + ", executor " + executor_->describe());
    session_.start();
}

void SupervisedVm::stop() {
    abort_action("vmhostd is shutting down");
    session_.stop();
}

void SupervisedVm::apply_corrective(hb::CorrectiveAction action, const std::string& why) {
    std::string name = to_string(action);
    events_.record(config_.name, "corrective-action", name + " through " + executor_->describe() + " (" + why + ")",
                   gsdk::LogLevel::Warning);
    executor_->carry_out(name, [this, name](const ExecutorResult& r) {
        events_.record(config_.name, "executor", "corrective " + name + (r.ok ? " done: " : " failed: ") + r.detail,
                       r.ok ? gsdk::LogLevel::Notice : gsdk::LogLevel::Error);
    });
}

void SupervisedVm::trigger(HostAction action, ActionRun::Finished finished) {
    if (action_ && !action_->finished()) abort_action(std::string("superseded by ") + to_string(action));
    action_ = std::make_unique<ActionRun>(
        loop_, config_.name, action, session_, *executor_, events_,
        [this, finished = std::move(finished)](const control::ActionResult& r) {
            finished(r);
            action_finished();
        },
        [this](HostAction a, const ExecutorResult& r) { orphan_executed(a, r); });
    action_->start();
}

void SupervisedVm::orphan_executed(HostAction action, const ExecutorResult& r) {
    // Only recorded: the run that aborted this one either executes itself
    // (and settles the heartbeat session) or the daemon is stopping.
    events_.record(config_.name, "executor",
                   std::string(to_string(action)) + " (aborted action) " + (r.ok ? "done: " : "failed: ") + r.detail);
}

void SupervisedVm::abort_action(const std::string& why) {
    if (action_ && !action_->finished()) action_->abort(why);
}

void SupervisedVm::action_finished() {
    if (!action_) return;
    done_.push_back(std::move(action_));
    reaper_.start(gsdk::Millis(0));
}

void SupervisedVm::report(const VmChange& change) {
    for (VmObserver* o : observers_) o->vm_changed(change);
}

void SupervisedVm::fill_status(control::VmStatus* s) const {
    s->set_name(config_.name);
    s->set_heartbeat(session_.state_name());
    if (const auto& g = session_.guest()) {
        s->set_guest_name(g->name);
        s->set_corrective_action(hb::to_string(g->corrective_action));
        s->set_interval_ms(static_cast<uint32_t>(session_.interval().count()));
    }
    s->set_health(session_.health());
    s->set_health_message(session_.health_message());
    for (const auto& a : session_.applications()) {
        auto* app = s->add_applications();
        app->set_name(a.name);
        app->set_state(a.state);
    }
    if (session_.applications_truncated()) s->set_applications_truncated(true);
    if (action_ && !action_->finished()) s->set_action(to_string(action_->action()));
    s->set_missed(session_.missed());
}

}  // namespace vmhost
