#include "vm_executor.h"

#include "command_executor.h"
#include "qmp_executor.h"

namespace vmhost {

std::unique_ptr<VmExecutor> make_executor(gsdk::EventLoop& loop, gsdk::ChildProcesses& children, const std::string& vm,
                                          const ExecutorConfig& config) {
    if (config.type == ExecutorConfig::Type::Qmp)
        return std::make_unique<QmpExecutor>(loop, config.qmp_socket, config.timeout);
    return std::make_unique<CommandExecutor>(loop, children, vm, config.argv, config.timeout);
}

}  // namespace vmhost
