// The state behind a gs_client handle: one subscription to guest-scaled, the
// question it was asked (if it chooses), and what process() hands to
// callbacks. The connection itself (non-blocking connect, back-off, outbox)
// is gsdk::IpcClient's. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gsdk/library_client.h"
#include "guest_scale.h"

namespace gsdk::scale::client {

using Clock = std::chrono::steady_clock;

// Something for process() to hand to a callback once the state lock is released.
struct Happening {
    enum class Kind { Link, Scaled, Choose, ChooserChanged } kind = Kind::Link;
    bool flag = false;  // Link: up; ChooserChanged: chooser
    bool chooser = false;
    int error = 0;
    gs_direction direction = GS_SCALE_UP;
    unsigned cpu = 0;  // Scaled: the CPU; Choose: the default
    uint64_t request_id = 0;
    unsigned timeout_ms = 0;
    std::vector<unsigned> online;
    std::string text;  // reason, chosen_by
};

enum class Link {
    Connecting,  // no connection; the next attempt is planned
    Awaiting,    // connected, Subscribed not yet received
    Up,          // accepted
    Refused,     // not allowed: no retry
};

}  // namespace gsdk::scale::client

struct gs_client : gsdk::LibraryClient<gsdk::scale::client::Happening> {
    gs_client(const gs_callbacks& cb, void* user_data, std::string path, bool chooser);

    int open_and_connect();
    int answer_choice(uint64_t request_id, int cpu);
    int online_cpus(unsigned* cpus, std::size_t max);
    bool is_chooser();
    bool connected();

    const gs_callbacks callbacks;
    void* const user;

private:
    using Happening = gsdk::scale::client::Happening;
    using Link = gsdk::scale::client::Link;

    // All below run with mu_ held.
    void subscribe();
    void lost(const std::string& reason);
    bool refused_by_mode(int error);
    void handle_datagram(const char* data, std::size_t len);
    void expire(TimePoint now) override;
    void consider_deadlines(Deadlines& d) const override;

    void deliver(Happening& h) override;

    const bool wants_choice_;
    Link link_ = Link::Connecting;
    bool chooser_ = false;
    std::vector<unsigned> online_;
    TimePoint subscribed_deadline_{};
    // The open question: its id and when the daemon stops waiting.
    std::optional<std::pair<uint64_t, TimePoint>> question_;
};
