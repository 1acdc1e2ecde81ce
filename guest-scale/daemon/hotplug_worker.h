// One thread that does the daemon's blocking sysfs work (CPU hotplug writes
// take the kernel 20-110 ms; reads wait while a CPU is being plugged), so
// the event loop never waits on the kernel. A job runs in the thread; its
// `done` runs afterwards in the loop, woken through an eventfd. Jobs run one
// at a time in order; the queue is bounded by the caller (the scale service
// runs one operation at a time). A second instance writes the state file
// (its fsync), so that never holds up a hotplug.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "gsdk/event_loop.h"

namespace gsdk::scale {

class HotplugWorker {
public:
    explicit HotplugWorker(EventLoop& loop);
    ~HotplugWorker();  // waits for the job in progress, drops the rest
    HotplugWorker(const HotplugWorker&) = delete;
    HotplugWorker& operator=(const HotplugWorker&) = delete;

    // 0 or a negative errno (eventfd, thread).
    int start();
    // -EBUSY past kMaxQueued jobs.
    int submit(std::function<void()> job, std::function<void()> done);
    // Runs a job in the calling thread (start-up, before the loop runs).
    static void run_now(const std::function<void()>& job) { job(); }

    static constexpr std::size_t kMaxQueued = 4;

private:
    struct Task {
        std::function<void()> job;
        std::function<void()> done;
    };
    void run();
    void completed();

    EventLoop& loop_;
    int wake_fd_ = -1;
    std::unique_ptr<FdWatch> wake_watch_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Task> todo_;
    std::deque<Task> finished_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace gsdk::scale
