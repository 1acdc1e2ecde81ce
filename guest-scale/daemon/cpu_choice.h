// Who picks the CPU to give up on a scale down, within a deadline: the
// application that subscribed as chooser (libguest_scale), else the app
// scale helper (`helper --cpu_del`, whose exit status names the CPU), else
// nobody. The answer is only a proposal: ScaleService checks it and falls
// back to the default choice. A helper still running at the deadline is
// killed (its whole process group).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon_config.h"
#include "gsdk/child_process.h"
#include "gsdk/event_loop.h"
#include "subscribers.h"

namespace gsdk::scale {

struct Proposal {
    std::optional<unsigned> cpu;  // nullopt: no usable answer (then `why`)
    std::string who;              // "the app scale helper", "the application (pid ...)", "nobody"
    std::string why;              // for the log when there is no answer
};

class CpuChoice {
public:
    using Decided = std::function<void(const Proposal&)>;

    CpuChoice(EventLoop& loop, ChildProcesses& children, Subscribers& subscribers, const DaemonConfig& config);
    ~CpuChoice();

    // Asks; `decided` runs once, from the loop (never from inside ask()).
    void ask(uint64_t request_id, const std::vector<unsigned>& online, unsigned default_cpu, Millis budget,
             Decided decided);
    // Called by the subscriber service.
    void answered(uint64_t request_id, int cpu);
    void chooser_gone(uint64_t request_id);
    // Runs `helper --cpu_add CPU [..]` after a scale up; only logged.
    void announce_up(unsigned cpu, const std::vector<unsigned>& online, Millis budget);
    // Whether an application chooses (it then replaces the helper).
    bool helper_usable() const;
    // Whether ask() would ask anyone: else the default is taken.
    bool has_chooser() const { return subscribers_.has_chooser() || helper_usable(); }

private:
    void finish(Proposal p);
    std::vector<std::string> helper_env() const;
    void helper_exited(const ChildExit& exit);

    ChildProcesses& children_;
    Subscribers& subscribers_;
    const DaemonConfig& config_;
    Timer deadline_;
    Timer soon_;
    std::optional<uint64_t> open_;  // the request being decided
    Decided decided_;
    std::string asked_;  // who was asked
    pid_t helper_ = -1;
    std::optional<Proposal> pending_;  // handed over by soon_
};

}  // namespace gsdk::scale
