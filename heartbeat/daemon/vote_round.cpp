#include "vote_round.h"

#include <algorithm>
#include <cstring>

#include "gsdk/json_line.h"
#include "gsdk/log.h"

namespace gsdk::heartbeat {

namespace {
constexpr const char* kEventScript = kEventScriptSource;
constexpr int64_t kPropagationAllowanceMs = 1000;

// The script is killed a little before the round ends, so that its overrun
// is seen (and counted as silence) before the round's own deadline decides.
int64_t script_deadline_ms(int64_t budget) { return budget - std::min<int64_t>(budget / 10, 1000); }
}  // namespace

VoteRound::VoteRound(EventLoop& loop, ApplicationRegistry& apps, ChildProcesses& children, const DaemonConfig& config,
                     int32_t round_id, const hbwire::ActionNotify& notify, Done done)
    : apps_(apps), children_(children), config_(config), round_id_(round_id), notify_(notify), done_(std::move(done)),
      deadline_(loop, [this] {
          if (nobody_to_ask_) return finish();
          LOG_INFO("%s %s: deadline reached, %zu silent (counted as %s)", hbwire::to_string(notify_.event_type),
                   hbwire::to_string(notify_.notification_type), tally_->outstanding(),
                   notify_.notification_type == hbwire::NotificationType::Revocable ? "accept" : "complete");
          finish();
      }) {}

VoteRound::~VoteRound() {
    deadline_.stop();
    if (script_pid_ > 0 && !finished_) children_.kill(script_pid_);
}

void VoteRound::start() {
    int64_t budget = std::max<int64_t>(0, notify_.timeout_ms - kPropagationAllowanceMs);
    std::set<std::string> participants =
        apps_.notify_action(round_id_, static_cast<ipc::Event>(notify_.event_type),
                            static_cast<ipc::NotifyType>(notify_.notification_type), static_cast<uint32_t>(budget));
    if (!config_.event_notification_script.empty()) {
        std::vector<std::string> argv = {config_.event_notification_script, hbwire::to_string(notify_.event_type),
                                         hbwire::to_string(notify_.notification_type)};
        std::weak_ptr<int> alive = alive_;
        int64_t script_budget = script_deadline_ms(budget);
        pid_t pid =
            children_.spawn(argv, {}, Millis(script_budget), [this, alive, script_budget](const ChildExit& exit) {
                if (alive.expired()) return;  // the round was aborted
                script_pid_ = -1;
                if (finished_) return;
                hbwire::VoteResult result;
                std::string why = one_line(exit.output, 160);
                if (exit.timed_out) {
                    // Silence, as the protocol counts it: accept for a vote,
                    // complete for a notification.
                    LOG_WARN("event script overran its %lld ms deadline and was killed; counted as silence (%s)",
                             static_cast<long long>(script_budget),
                             notify_.notification_type == hbwire::NotificationType::Revocable ? "accept" : "complete");
                    if (tally_->withdraw(kEventScript)) finish();
                    return;
                } else if (exit.exited && exit.exit_code == 0) {
                    result = notify_.notification_type == hbwire::NotificationType::Revocable
                                 ? hbwire::VoteResult::Accept
                                 : hbwire::VoteResult::Complete;
                } else if (exit.exited && exit.exit_code == 1) {
                    result = hbwire::VoteResult::Reject;
                } else {
                    result = hbwire::VoteResult::Error;
                    why = "event script " +
                          (exit.exited ? "exited with " + std::to_string(exit.exit_code)
                                       : "killed by signal " + std::to_string(exit.signal)) +
                          (why.empty() ? "" : ": " + why);
                    LOG_WARN("%s", why.c_str());
                }
                if (tally_->record(kEventScript, result, why)) finish();
            });
        if (pid > 0) {
            script_pid_ = pid;
            participants.insert(kEventScript);
        } else {
            LOG_ERROR("cannot run event script %s: %s", config_.event_notification_script.c_str(), std::strerror(-pid));
        }
    }
    tally_ = std::make_unique<VoteTally>(notify_.notification_type, participants);
    LOG_INFO("%s %s (host invocation %lld): asking %zu participant(s), %lld ms to answer",
             hbwire::to_string(notify_.event_type), hbwire::to_string(notify_.notification_type),
             static_cast<long long>(notify_.invocation_id), participants.size(), static_cast<long long>(budget));
    if (participants.empty()) {
        // Nobody to ask: "complete" at once, as the reference guest answers.
        nobody_to_ask_ = true;
        deadline_.start(Millis(0));
        return;
    }
    deadline_.start(Millis(budget));
}

void VoteRound::application_answered(const std::string& app, const ipc::ActionResponse& response) {
    if (finished_ || !tally_ || response.invocation_id() != round_id_) return;
    auto result = static_cast<hbwire::VoteResult>(response.vote_result());
    LOG_INFO("%s answered %s %s: %s%s%s", app.c_str(), hbwire::to_string(notify_.event_type),
             hbwire::to_string(notify_.notification_type), hbwire::to_string(result),
             response.log_msg().empty() ? "" : " - ", response.log_msg().c_str());
    if (tally_->record(app, result, response.log_msg())) finish();
}

void VoteRound::application_departed(const std::string& app) {
    if (finished_ || !tally_) return;
    if (tally_->withdraw(app)) finish();
}

void VoteRound::finish() {
    if (finished_) return;
    finished_ = true;
    deadline_.stop();
    if (script_pid_ > 0) children_.kill(script_pid_);
    if (nobody_to_ask_)
        done_(hbwire::VoteResult::Complete, "");
    else
        done_(tally_->result(), tally_->log_msg());
}

}  // namespace gsdk::heartbeat
