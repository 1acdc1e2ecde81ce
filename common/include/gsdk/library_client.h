// What the client libraries (libguest_heartbeat, libserver_group,
// libguest_scale) share behind their C handles: one connection to their
// daemon (IpcClient), driven from the application's own loop; the state lock;
// the happenings gathered under it and handed to callbacks with it released
// (CallbackDispatch); and the one deadline the application must wake for.
// A library says what expires, which deadlines it keeps and how a happening
// reaches its callbacks.
#pragma once

#include <deque>
#include <mutex>
#include <optional>

#include "gsdk/callback_dispatch.h"
#include "gsdk/ipc_client.h"

namespace gsdk {

template <typename Happening>
class LibraryClient {
public:
    using Clock = IpcClient::Clock;
    using TimePoint = IpcClient::TimePoint;

    LibraryClient(const LibraryClient&) = delete;
    LibraryClient& operator=(const LibraryClient&) = delete;

    int fd() const { return ipc_.fd(); }
    // Milliseconds until process() has work without the descriptor becoming readable; -1: none.
    int next_timeout_ms() {
        std::lock_guard lock(mu_);
        return ipc_.timeout_ms(earliest_deadline());
    }
    int process() {
        return dispatch_.template run<Happening>(
            mu_,
            [this](std::deque<Happening>& ready) {
                ipc_.process();
                expire(Clock::now());
                ready.swap(ready_);
                arm_timer();
            },
            [this](Happening& h) { deliver(h); });
    }

protected:
    // The earliest of the deadlines a library names.
    class Deadlines {
    public:
        void consider(TimePoint t) {
            if (!at_ || t < *at_) at_ = t;
        }
        std::optional<TimePoint> earliest() const { return at_; }

    private:
        std::optional<TimePoint> at_;
    };

    LibraryClient(IpcClient::Options options, IpcClient::Callbacks callbacks)
        : ipc_(std::move(options), std::move(callbacks)) {}
    virtual ~LibraryClient() = default;

    // With mu_ held: what is due at `now` (answers not received in time, questions gone stale).
    virtual void expire(TimePoint now) = 0;
    // With mu_ held: the library's own deadlines.
    virtual void consider_deadlines(Deadlines& d) const = 0;
    // With no lock held, so that a callback may call back in.
    virtual void deliver(Happening& h) = 0;

    // With mu_ held: the connection's timer set for the earliest deadline.
    void arm_timer() { ipc_.arm(earliest_deadline()); }

    std::mutex mu_;
    CallbackDispatch dispatch_;
    IpcClient ipc_;
    std::deque<Happening> ready_;  // for the next process()

private:
    std::optional<TimePoint> earliest_deadline() const {
        Deadlines d;
        if (!ready_.empty()) d.consider(Clock::now());
        consider_deadlines(d);
        return d.earliest();
    }
};

}  // namespace gsdk
