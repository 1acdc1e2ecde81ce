// Everything vmhostd does for one VM: its heartbeat session, its executor,
// the corrective actions the session asks for, and the host action in
// progress. Later parts (server-group relay, vCPU scaling) attach here too.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event_log.h"
#include "heartbeat/action_run.h"
#include "heartbeat/heartbeat_session.h"
#include "host_config.h"
#include "vm_executor.h"
#include "vm_observer.h"
#include "vmhost_control.pb.h"

namespace vmhost {

class SupervisedVm {
public:
    SupervisedVm(gsdk::EventLoop& loop, gsdk::ChildProcesses& children, EventLog& events, VmConfig config);

    const std::string& name() const { return config_.name; }
    void start();
    void stop();
    void fill_status(control::VmStatus* status) const;
    // Starts a host action, aborting the one in progress; `finished` runs once.
    void trigger(HostAction action, ActionRun::Finished finished);
    void abort_action(const std::string& why);
    // Observers hear of heartbeat sessions and of what the executor does.
    void add_observer(VmObserver* observer) { observers_.push_back(observer); }
    const char* heartbeat_state() const { return session_.state_name(); }

private:
    void apply_corrective(hb::CorrectiveAction action, const std::string& why);
    void action_finished();
    void orphan_executed(HostAction action, const ExecutorResult& result);
    void report(const VmChange& change);

    gsdk::EventLoop& loop_;
    EventLog& events_;
    VmConfig config_;
    std::unique_ptr<VmExecutor> executor_;
    HeartbeatSession session_;
    std::unique_ptr<ActionRun> action_;
    // A finished run is freed from the loop, not from inside its own callback.
    std::vector<std::unique_ptr<ActionRun>> done_;
    gsdk::Timer reaper_;
    std::vector<VmObserver*> observers_;
};

}  // namespace vmhost
