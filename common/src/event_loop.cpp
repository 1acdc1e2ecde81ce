#include "gsdk/event_loop.h"

#include <event2/event.h>
#include <pthread.h>

#include <csignal>

#include <new>
#include <stdexcept>

#include "gsdk/log.h"

namespace gsdk {

namespace {
// libevent fails to create an event only when out of memory: as for any
// allocation, that is thrown (a daemon's main logs it and exits).
event* created(event* ev) {
    if (!ev) throw std::bad_alloc();
    return ev;
}

void added(int rc, const char* what) {
    if (rc < 0) LOG_RATELIMITED(LogLevel::Error, what, "libevent could not add a %s event", what);
}

timeval to_timeval(Millis ms) {
    if (ms.count() < 0) ms = Millis(0);
    timeval tv;
    tv.tv_sec = ms.count() / 1000;
    tv.tv_usec = (ms.count() % 1000) * 1000;
    return tv;
}
}  // namespace

EventLoop::EventLoop() : base_(event_base_new()) {
    if (!base_) throw std::runtime_error("event_base_new failed");
}

EventLoop::~EventLoop() { event_base_free(base_); }

int EventLoop::run() { return event_base_dispatch(base_) < 0 ? -1 : 0; }

void EventLoop::stop() { event_base_loopbreak(base_); }

void EventLoop::run_once_nonblocking() { event_base_loop(base_, EVLOOP_NONBLOCK | EVLOOP_ONCE); }

const timeval* EventLoop::common_timeout(Millis duration) {
    auto it = common_timeouts_.find(duration.count());
    if (it != common_timeouts_.end()) return it->second;
    if (common_timeouts_.size() >= 256) return nullptr;
    timeval tv = to_timeval(duration);
    const timeval* common = event_base_init_common_timeout(base_, &tv);
    common_timeouts_.emplace(duration.count(), common);
    return common;
}

Timer::Timer(EventLoop& loop, std::function<void()> fire)
    : loop_(loop), fire_(std::move(fire)), ev_(created(evtimer_new(loop.base(), &Timer::trampoline, this))) {}

Timer::~Timer() { event_free(ev_); }

void Timer::start(Millis after) {
    timeval tv = to_timeval(after);
    added(evtimer_add(ev_, &tv), "timer");
}

void Timer::start_shared(Millis after) {
    const timeval* common = after.count() > 0 ? loop_.common_timeout(after) : nullptr;
    if (!common) return start(after);
    added(evtimer_add(ev_, common), "timer");
}

void Timer::stop() { evtimer_del(ev_); }

bool Timer::pending() const { return evtimer_pending(ev_, nullptr); }

void Timer::trampoline(int, short, void* self) { static_cast<Timer*>(self)->fire_(); }

FdWatch::FdWatch(EventLoop& loop, int fd, short events, std::function<void(short)> ready)
    : ready_(std::move(ready)),
      ev_(created(event_new(loop.base(), fd, events | EV_PERSIST, &FdWatch::trampoline, this))) {}

FdWatch::~FdWatch() { event_free(ev_); }

void FdWatch::enable() {
    if (!enabled_) added(event_add(ev_, nullptr), "descriptor");
    enabled_ = true;
}

void FdWatch::disable() {
    if (enabled_) event_del(ev_);
    enabled_ = false;
}

void FdWatch::trampoline(int, short what, void* self) { static_cast<FdWatch*>(self)->ready_(what); }

namespace {

void set_blocked(int signo, int how) {
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    pthread_sigmask(how, &one, nullptr);
}

}  // namespace

void hold_signal(int signo) { set_blocked(signo, SIG_BLOCK); }

SignalWatch::SignalWatch(EventLoop& loop, int signo, std::function<void()> raised)
    : raised_(std::move(raised)), ev_(created(evsignal_new(loop.base(), signo, &SignalWatch::trampoline, this))) {
    if (event_add(ev_, nullptr) < 0) throw std::runtime_error("cannot watch signal " + std::to_string(signo));
    // libevent's handler is installed: a held signal is delivered to it now
    // and served when the loop runs.
    set_blocked(signo, SIG_UNBLOCK);
}

SignalWatch::~SignalWatch() { event_free(ev_); }

void SignalWatch::trampoline(int, short, void* self) { static_cast<SignalWatch*>(self)->raised_(); }

StopSignals::StopSignals(EventLoop& loop)
    : term_(loop, SIGTERM,
            [this, &loop] {
                cause_ = "SIGTERM";
                loop.stop();
            }),
      intr_(loop, SIGINT, [this, &loop] {
          cause_ = "SIGINT";
          loop.stop();
      }) {}

}  // namespace gsdk
