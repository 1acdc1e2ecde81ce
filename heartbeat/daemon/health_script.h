// The optional HEALTH_CHECK_SCRIPT, run every HEALTH_CHECK_INTERVAL seconds:
// exit 0 means healthy; anything else (or overrunning the interval) means
// unhealthy with the configured corrective action and the script's output
// as the reason.
#pragma once

#include <functional>
#include <optional>

#include "daemon_config.h"
#include "gsdk/child_process.h"
#include "gsdk/event_loop.h"
#include "health_verdict.h"

namespace gsdk::heartbeat {

class HealthScript {
public:
    HealthScript(EventLoop& loop, ChildProcesses& children, const DaemonConfig& config, std::function<void()> changed);
    // Also after a reload: runs the configured script now, or stops running
    // one that is no longer configured (and forgets its finding).
    void start();
    // Nothing until the script has run once.
    std::optional<HealthFinding> finding() const { return finding_; }

private:
    void run();

    ChildProcesses& children_;
    const DaemonConfig& config_;
    std::function<void()> changed_;
    Timer timer_;
    std::optional<HealthFinding> finding_;
    bool running_ = false;
};

}  // namespace gsdk::heartbeat
