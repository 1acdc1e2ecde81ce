// The process() discipline of the client libraries: work that became ready
// is gathered under the client's state lock, then handed to the
// application's callbacks with no lock held, so a callback may call back
// into the library; one process() at a time, so callbacks never overlap;
// and a process() from inside a callback is refused (-EDEADLK) rather than
// deadlocking or delivering out of order.
#pragma once

#include <atomic>
#include <cerrno>
#include <deque>
#include <mutex>
#include <thread>

namespace gsdk {

class CallbackDispatch {
public:
    // gather(ready) runs with `state` locked and moves what is ready into
    // `ready`; deliver(item) then runs for each, unlocked.
    template <typename Item, typename Gather, typename Deliver>
    int run(std::mutex& state, Gather&& gather, Deliver&& deliver) {
        if (dispatcher_.load() == std::this_thread::get_id()) return -EDEADLK;
        std::lock_guard one_at_a_time(mu_);
        dispatcher_.store(std::this_thread::get_id());
        std::deque<Item> ready;
        {
            std::lock_guard lock(state);
            gather(ready);
        }
        for (auto& item : ready) deliver(item);
        dispatcher_.store(std::thread::id{});
        return 0;
    }

private:
    std::mutex mu_;
    std::atomic<std::thread::id> dispatcher_{};
};

}  // namespace gsdk
