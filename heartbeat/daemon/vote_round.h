// One action notification from the host, fanned out in parallel to every
// registered application and the event script. Decided by the first reject,
// by everyone answering, or by the deadline (the host's timeout less the 1 s
// propagation allowance), whichever comes first.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "application_registry.h"
#include "daemon_config.h"
#include "gsdk/child_process.h"
#include "gsdk/event_loop.h"
#include "heartbeat_host_wire.h"
#include "vote_tally.h"

namespace gsdk::heartbeat {

class VoteRound {
public:
    using Done = std::function<void(hbwire::VoteResult result, const std::string& log_msg)>;

    VoteRound(EventLoop& loop, ApplicationRegistry& apps, ChildProcesses& children, const DaemonConfig& config,
              int32_t round_id, const hbwire::ActionNotify& notify, Done done);
    ~VoteRound();  // aborts: kills a running event script, reports nothing

    void start();
    void application_answered(const std::string& app, const ipc::ActionResponse& response);
    void application_departed(const std::string& app);
    bool finished() const { return finished_; }
    const hbwire::ActionNotify& notify() const { return notify_; }

private:
    void finish();

    ApplicationRegistry& apps_;
    ChildProcesses& children_;
    const DaemonConfig& config_;
    int32_t round_id_;
    hbwire::ActionNotify notify_;
    Done done_;
    std::unique_ptr<VoteTally> tally_;
    Timer deadline_;
    pid_t script_pid_ = -1;
    bool finished_ = false;
    bool nobody_to_ask_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for the script's exit callback
};

}  // namespace gsdk::heartbeat
