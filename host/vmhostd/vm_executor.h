// How vmhostd acts on a VM (stop it, reboot it, pause it...): a command the
// operator provides, or QEMU's QMP socket. Heartbeat supervision and action
// sequencing only ever see this interface.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gsdk/child_process.h"
#include "gsdk/event_loop.h"
#include "host_config.h"

namespace vmhost {

struct ExecutorResult {
    bool ok = false;
    std::string detail;  // what happened, for the event log
};

class VmExecutor {
public:
    using Done = std::function<void(const ExecutorResult&)>;
    virtual ~VmExecutor() = default;
    // `action` is a host action name (stop, reboot, pause, unpause, suspend,
    // resume, resize, live-migrate, cold-migrate). `done` runs exactly once,
    // later, from the loop, unless the executor is destroyed first.
    virtual void carry_out(const std::string& action, Done done) = 0;
    virtual std::string describe() const = 0;
};

std::unique_ptr<VmExecutor> make_executor(gsdk::EventLoop& loop, gsdk::ChildProcesses& children, const std::string& vm,
                                          const ExecutorConfig& config);

}  // namespace vmhost
