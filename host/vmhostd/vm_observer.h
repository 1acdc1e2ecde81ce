// What happens to a VM that parts spanning VMs (the server-group relay) must
// hear about: heartbeat sessions starting and being lost, host actions (and
// corrective actions) carried out by the executor, and vCPU scaling. Each
// SupervisedVm reports its own; the scale code reports scaling.
#pragma once

#include <string>

namespace vmhost {

struct VmChange {
    enum class Kind {
        HeartbeatUp,    // the guest started a heartbeat session (init acknowledged)
        HeartbeatLost,  // heartbeat loss declared
        ActionBegin,    // the executor starts carrying out `action`
        ActionEnd,      // ... and has done it
        ActionFailed,   // ... and failed (the VM is presumably as it was)
        Scaled,         // vCPUs scaled: `action` is "up" or "down"
    };
    Kind kind = Kind::HeartbeatUp;
    std::string vm;
    // Action kinds: the host action name (stop, reboot, live-migrate...);
    // Scaled: the direction.
    std::string action;
    std::string detail;    // for logs: why, or what the executor said
    int online_cpus = -1;  // Scaled: CPUs online afterwards, -1 if unknown
};

class VmObserver {
public:
    virtual ~VmObserver() = default;
    // Called from the event loop, after the change took place (for
    // ActionBegin: just before the executor starts).
    virtual void vm_changed(const VmChange& change) = 0;
};

}  // namespace vmhost
