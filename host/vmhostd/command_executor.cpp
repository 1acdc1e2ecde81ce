#include "command_executor.h"

#include <cstring>

#include "gsdk/json_line.h"

namespace vmhost {

CommandExecutor::CommandExecutor(gsdk::EventLoop& loop, gsdk::ChildProcesses& children, std::string vm,
                                 std::vector<std::string> argv, gsdk::Millis timeout)
    : children_(children), vm_(std::move(vm)), argv_(std::move(argv)), timeout_(timeout), report_timer_(loop, [this] {
          auto failed = std::move(failed_);
          failed_.clear();
          for (auto& [done, result] : failed) done(result);
      }) {}

void CommandExecutor::report_later(Done done, ExecutorResult result) {
    failed_.emplace_back(std::move(done), std::move(result));
    report_timer_.start(gsdk::Millis(0));
}

std::string CommandExecutor::describe() const { return "command " + argv_[0]; }

void CommandExecutor::carry_out(const std::string& action, Done done) {
    std::vector<std::string> argv = argv_;
    argv.push_back(vm_);
    argv.push_back(action);
    std::vector<std::string> env = {"VMHOST_VM=" + vm_, "VMHOST_ACTION=" + action};
    std::weak_ptr<bool> alive = alive_;
    auto timeout = timeout_;
    pid_t pid =
        children_.spawn(argv, env, timeout_, [alive, done, timeout, command = argv_[0]](const gsdk::ChildExit& exit) {
            if (alive.expired()) return;
            ExecutorResult r;
            std::string output = gsdk::one_line(exit.output, 300);
            if (exit.timed_out) {
                r.detail = command + " killed after " + std::to_string(timeout.count() / 1000) + " s";
            } else if (exit.exited) {
                r.ok = exit.exit_code == 0;
                r.detail = command + " exited with status " + std::to_string(exit.exit_code);
            } else {
                r.detail =
                    command + " killed by signal " + std::to_string(exit.signal) + " (" + strsignal(exit.signal) + ")";
            }
            if (!output.empty()) r.detail += ": " + output;
            done(r);
        });
    if (pid < 0) {
        ExecutorResult r{false, "cannot start " + argv_[0] + ": " + std::strerror(-pid)};
        report_later(done, r);
    }
}

}  // namespace vmhost
