// Runs hook programs (health and event scripts, host action commands) without
// blocking the loop: output captured, a deadline after which the whole process
// group is killed, and the exit reported through a callback.
#pragma once

#include <sys/types.h>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gsdk/event_loop.h"

namespace gsdk {

struct ChildExit {
    bool started = false;    // false: fork/exec failed (see output)
    bool timed_out = false;  // killed at the deadline
    bool exited = false;     // true: exit_code valid; false: killed by signal
    int exit_code = -1;
    int signal = 0;
    std::string output;  // first bytes of stdout+stderr
};

class ChildProcesses {
public:
    using ExitFn = std::function<void(const ChildExit&)>;

    explicit ChildProcesses(EventLoop& loop);
    ~ChildProcesses();

    // Starts argv[0] with argv; extra_env entries are "KEY=VALUE".
    // Returns the pid, or a negative errno (the callback is then not called).
    pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, Millis deadline,
                ExitFn on_exit);
    // Kills a child early; its callback still runs, with timed_out set.
    void kill(pid_t pid);
    std::size_t running() const { return children_.size(); }

private:
    struct Child;
    void reap();

    EventLoop& loop_;
    SignalWatch sigchld_;
    std::map<pid_t, std::unique_ptr<Child>> children_;
};

}  // namespace gsdk
