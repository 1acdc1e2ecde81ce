// Small RAII wrappers over libevent: one EventLoop per daemon, timers, fd
// watches and signals whose callbacks are std::function.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

struct event_base;
struct event;

namespace gsdk {

using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    event_base* base() const { return base_; }
    // Runs until stop(); returns 0, or -1 if libevent failed.
    int run();
    void stop();
    // Runs ready callbacks once without blocking (used by tests).
    void run_once_nonblocking();
    // libevent's O(1) queue for timers that all share one duration (the
    // per-application challenge timers); nullptr once 256 durations exist.
    const struct timeval* common_timeout(Millis duration);

private:
    event_base* base_;
    std::map<int64_t, const struct timeval*> common_timeouts_;
};

// A one-shot timer; start() re-arms it.
class Timer {
public:
    Timer(EventLoop& loop, std::function<void()> fire);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void start(Millis after);
    // Like start(), for durations that thousands of timers share.
    void start_shared(Millis after);
    void stop();
    bool pending() const;

private:
    static void trampoline(int, short, void* self);
    EventLoop& loop_;
    std::function<void()> fire_;
    event* ev_;
};

// Watches one file descriptor; the callback gets the libevent flags that fired.
class FdWatch {
public:
    FdWatch(EventLoop& loop, int fd, short events, std::function<void(short)> ready);
    ~FdWatch();
    FdWatch(const FdWatch&) = delete;
    FdWatch& operator=(const FdWatch&) = delete;

    void enable();
    void disable();
    bool enabled() const { return enabled_; }

private:
    static void trampoline(int, short, void* self);
    std::function<void(short)> ready_;
    event* ev_;
    bool enabled_ = false;
};

// Blocks `signo` in the calling thread. A daemon calls it on the first line
// of main for a signal it will watch (SIGHUP, a reload): one that arrives
// during start-up then waits instead of taking its default action (for
// SIGHUP, ending the daemon), and is served once the watch exists.
void hold_signal(int signo);

// Watches a signal through the loop. Once the watch is in place the signal
// is unblocked in the calling thread, so one that was held (hold_signal, or
// a mask inherited from whoever started the daemon) is delivered then.
class SignalWatch {
public:
    SignalWatch(EventLoop& loop, int signo, std::function<void()> raised);
    ~SignalWatch();
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

private:
    static void trampoline(int, short, void* self);
    std::function<void()> raised_;
    event* ev_;
};

// SIGTERM and SIGINT stop the loop; cause() names the one that did (for the
// daemon's "stopping on ..." line), empty until then.
class StopSignals {
public:
    explicit StopSignals(EventLoop& loop);
    const std::string& cause() const { return cause_; }

private:
    std::string cause_;
    SignalWatch term_;
    SignalWatch intr_;
};

}  // namespace gsdk
