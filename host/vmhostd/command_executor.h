// Executor "command": runs the operator's argv + [vm name, action] with
// VMHOST_VM and VMHOST_ACTION in the environment; exit status 0 = done.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vm_executor.h"

namespace vmhost {

class CommandExecutor : public VmExecutor {
public:
    CommandExecutor(gsdk::EventLoop& loop, gsdk::ChildProcesses& children, std::string vm,
                    std::vector<std::string> argv, gsdk::Millis timeout);
    void carry_out(const std::string& action, Done done) override;
    std::string describe() const override;

private:
    void report_later(Done done, ExecutorResult result);

    gsdk::ChildProcesses& children_;
    std::string vm_;
    std::vector<std::string> argv_;
    gsdk::Millis timeout_;
    // Completion callbacks check this so a late child exit never reaches a dead executor.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    // Spawn failures are reported from the loop, like real exits.
    std::vector<std::pair<Done, ExecutorResult>> failed_;
    gsdk::Timer report_timer_;
};

}  // namespace vmhost
