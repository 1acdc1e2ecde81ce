#include "cpu_choice.h"

#include <unistd.h>

#include <cstring>

#include "cpu_set_text.h"
#include "gsdk/log.h"

namespace gsdk::scale {

CpuChoice::CpuChoice(EventLoop& loop, ChildProcesses& children, Subscribers& subscribers, const DaemonConfig& config)
    : children_(children), subscribers_(subscribers), config_(config),
      deadline_(loop,
                [this] {
                    if (helper_ > 0) {
                        // Its exit (killed) settles the choice.
                        children_.kill(helper_);
                        return;
                    }
                    subscribers_.forget_question();
                    finish(Proposal{std::nullopt, asked_, asked_ + " did not answer in time"});
                }),
      soon_(loop, [this] {
          if (pending_) {
              Proposal p = std::move(*pending_);
              pending_.reset();
              finish(std::move(p));
          }
      }) {}

CpuChoice::~CpuChoice() {
    if (helper_ > 0) children_.kill(helper_);
}

std::vector<std::string> CpuChoice::helper_env() const { return {"GUEST_SCALE_SYSFS=" + config_.sysfs_root}; }

bool CpuChoice::helper_usable() const { return !config_.helper.empty() && ::access(config_.helper.c_str(), X_OK) == 0; }

void CpuChoice::ask(uint64_t request_id, const std::vector<unsigned>& online, unsigned default_cpu, Millis budget,
                    Decided decided) {
    open_ = request_id;
    decided_ = std::move(decided);
    if (budget <= Millis(0)) {
        pending_ = Proposal{std::nullopt, "nobody", "no time left to ask"};
        soon_.start(Millis(0));
        return;
    }
    if (subscribers_.ask_chooser(request_id, online, default_cpu, budget, &asked_)) {
        deadline_.start(budget);
        return;
    }
    if (!helper_usable()) {
        pending_ = Proposal{std::nullopt, "nobody", "no app scale helper or choosing application"};
        soon_.start(Millis(0));
        return;
    }
    asked_ = "the app scale helper " + config_.helper;
    pid_t pid = children_.spawn({config_.helper, "--cpu_del"}, helper_env(), budget,
                                [this](const ChildExit& exit) { helper_exited(exit); });
    if (pid < 0) {
        pending_ = Proposal{std::nullopt, asked_, std::string("cannot start it: ") + std::strerror(-pid)};
        soon_.start(Millis(0));
        return;
    }
    helper_ = pid;
}

void CpuChoice::helper_exited(const ChildExit& exit) {
    helper_ = -1;
    if (!open_) return;
    Proposal p{std::nullopt, asked_, {}};
    if (!exit.started) {
        p.why = "it could not be started: " + exit.output;
    } else if (exit.timed_out) {
        p.why = "it was still running at the deadline and was killed";
    } else if (!exit.exited) {
        p.why = "it was killed by signal " + std::to_string(exit.signal);
    } else if (exit.exit_code == 0) {
        p.why = "it exited 0 (no preference)";
    } else {
        p.cpu = static_cast<unsigned>(exit.exit_code);
    }
    if (!exit.output.empty()) LOG_INFO("app scale helper --cpu_del said: %s", exit.output.substr(0, 200).c_str());
    finish(std::move(p));
}

void CpuChoice::answered(uint64_t request_id, int cpu) {
    if (!open_ || *open_ != request_id) return;
    Proposal p{std::nullopt, asked_, {}};
    if (cpu < 0)
        p.why = "it had no preference";
    else
        p.cpu = static_cast<unsigned>(cpu);
    finish(std::move(p));
}

void CpuChoice::chooser_gone(uint64_t request_id) {
    if (!open_ || *open_ != request_id) return;
    finish(Proposal{std::nullopt, asked_, "it left before answering"});
}

void CpuChoice::finish(Proposal p) {
    if (!open_) return;
    open_.reset();
    deadline_.stop();
    Decided decided = std::move(decided_);
    decided_ = nullptr;
    decided(p);
}

void CpuChoice::announce_up(unsigned cpu, const std::vector<unsigned>& online, Millis budget) {
    if (!helper_usable()) return;
    std::string list = scalewire::cpu_array_text(online);
    pid_t pid = children_.spawn(
        {config_.helper, "--cpu_add", std::to_string(cpu), list}, helper_env(), budget, [cpu](const ChildExit& exit) {
            if (exit.exited && exit.exit_code == 0) {
                LOG_INFO("app scale helper --cpu_add %u exited 0", cpu);
            } else if (exit.timed_out) {
                LOG_RATELIMITED(LogLevel::Warning, "add",
                                "app scale helper --cpu_add %u was "
                                "still running at the deadline and was killed",
                                cpu);
            } else {
                LOG_RATELIMITED(LogLevel::Warning, "add", "app scale helper --cpu_add %u %s %d%s%s", cpu,
                                exit.exited ? "exited" : "was killed by signal",
                                exit.exited ? exit.exit_code : exit.signal, exit.output.empty() ? "" : ": ",
                                exit.output.substr(0, 200).c_str());
            }
        });
    if (pid < 0)
        LOG_RATELIMITED(LogLevel::Warning, "add", "cannot run the app scale helper %s: %s", config_.helper.c_str(),
                        std::strerror(-pid));
}

}  // namespace gsdk::scale
