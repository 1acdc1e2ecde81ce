#include "hotplug_worker.h"

#include <event2/event.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace gsdk::scale {

HotplugWorker::HotplugWorker(EventLoop& loop) : loop_(loop) {}

HotplugWorker::~HotplugWorker() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
        todo_.clear();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    wake_watch_.reset();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

int HotplugWorker::start() {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return -errno;
    wake_watch_ = std::make_unique<FdWatch>(loop_, wake_fd_, EV_READ, [this](short) { completed(); });
    wake_watch_->enable();
    // Signals stay with the loop's thread (SIGCHLD for the helper, SIGTERM).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        return -e.code().value();
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return 0;
}

int HotplugWorker::submit(std::function<void()> job, std::function<void()> done) {
    {
        std::lock_guard lock(mu_);
        if (todo_.size() >= kMaxQueued) return -EBUSY;
        todo_.push_back(Task{std::move(job), std::move(done)});
    }
    cv_.notify_one();
    return 0;
}

void HotplugWorker::run() {
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !todo_.empty(); });
            if (stopping_) return;
            task = std::move(todo_.front());
            todo_.pop_front();
        }
        task.job();
        {
            std::lock_guard lock(mu_);
            finished_.push_back(std::move(task));
        }
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }
}

void HotplugWorker::completed() {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
    std::deque<Task> done;
    {
        std::lock_guard lock(mu_);
        done.swap(finished_);
    }
    for (auto& task : done)
        if (task.done) task.done();
}

}  // namespace gsdk::scale
