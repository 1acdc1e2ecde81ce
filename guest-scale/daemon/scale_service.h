// The scaling service at cgcs.scale (docs/protocols/messaging.md "Scaling
// layer"): one scale_request at a time, answered on the wire exactly as
// the reference guest did. Up: the CPU the host names is brought online,
// then the app scale helper hears of it (--cpu_add). Down: the chooser (an
// application, else the helper) proposes a CPU within the host's timeout;
// an unusable proposal gives way to the default (the highest-numbered
// online CPU), and CPU 0 or a CPU without an `online` file is never taken.
// Every sysfs access runs in the hotplug worker.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cpu_choice.h"
#include "cpu_tree.h"
#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "hotplug_worker.h"
#include "scale_layer.h"
#include "subscribers.h"

namespace gsdk::scale {

class ScaleService {
public:
    // Sends `data` (a JSON object's text) to the host at `dest_addr`.
    using Reply = std::function<int(const std::string& dest_addr, const std::string& data_json)>;

    // `worker` does the sysfs work; `state_writer`, a second thread, writes
    // the last-known offline set, so that an fsync on a slow disk never
    // holds up the next operation's hotplug.
    ScaleService(HotplugWorker& worker, HotplugWorker& state_writer, const CpuTree& tree, Subscribers& subscribers,
                 CpuChoice& choice, const DaemonConfig& config, Reply reply);

    // What the host sent to cgcs.scale.
    void request(const std::string& source_addr, const std::string& data_json);
    bool busy() const { return op_.has_value(); }
    // Reads the tree now (start-up, before the loop runs) for subscribers and the log.
    bool read_initial(std::string* why);
    uint64_t served() const { return served_; }

private:
    struct Operation {
        uint64_t id = 0;
        std::string reply_to;
        scalewire::ScaleRequest request;
        Clock::time_point started;
        Clock::time_point answered;  // when the worker's outcome reached the loop
        Clock::time_point choice_deadline;
        CpuSnapshot snapshot;  // as read before the change
        unsigned default_cpu = 0;
        std::string chosen_by;
    };
    // What the worker reports about a change.
    struct Outcome {
        int error = 0;
        std::string why;
        unsigned cpu = 0;
        CpuSnapshot after;
        std::string note;  // e.g. the proposed CPU was refused by the kernel and the default taken
        // Where the worker's time went, for the debug log: when the job
        // started, the write began and ended, and the job (the re-read)
        // ended; zero where that step did not happen.
        Clock::time_point job_began{}, write_began{}, write_ended{}, job_ended{};
    };

    void submit_or_fail(std::function<void()> job, std::function<void()> done);
    void start_down();
    void start_down_by_default();
    void scanned_for_down(int rc, const std::string& why);
    void proposal(const Proposal& p);
    void take_offline(unsigned cpu, std::optional<unsigned> fallback);
    void start_up();
    void finished(const Outcome& outcome);
    void log_where_time_went(const Operation& op, const Outcome& outcome);
    void fail(const std::string& reply_to, std::optional<scalewire::Direction> direction, const std::string& err);
    void send(const std::string& reply_to, const scalewire::ScaleResponse& r);
    // Why `cpu` may not go offline, or nothing.
    std::optional<std::string> unusable_for_down(unsigned cpu) const;
    // The writes and re-read of one change; worker thread.
    static Outcome apply(const CpuTree& tree, unsigned cpu, bool online, std::optional<unsigned> fallback);
    // The last-known offline set, written by the worker after the answer.
    void save_state(const std::vector<unsigned>& offline);
    Millis budget_left() const;

    HotplugWorker& worker_;
    HotplugWorker& state_writer_;
    const CpuTree& tree_;
    Subscribers& subscribers_;
    CpuChoice& choice_;
    const DaemonConfig& config_;
    Reply reply_;
    std::optional<Operation> op_;
    uint64_t next_id_ = 1;
    uint64_t served_ = 0;
};

}  // namespace gsdk::scale
