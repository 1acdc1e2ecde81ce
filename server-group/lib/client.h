// The state behind an sg_client handle: one connection to server-groupd,
// the status query in progress, and what process() hands to callbacks.
// The connection itself (non-blocking connect, back-off, outbox) is
// gsdk::IpcClient's. Internal.
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
#include "server_group_client.h"

namespace gsdk::sg::client {

using Clock = std::chrono::steady_clock;

// Something for process() to hand to a callback once the state lock is released.
struct Happening {
    enum class Kind { Link, Broadcast, Notification, Status, Refused, Lost } kind = Kind::Link;
    bool up = false;
    int error = 0;
    uint32_t query_id = 0;
    uint64_t count = 0;
    std::string source_instance;
    std::string text;  // payload, notification JSON, refusal or failure reason
    std::string msg_type;
    std::vector<std::string> members;
};

// A status query waiting for its answer.
struct PendingQuery {
    uint32_t id = 0;
    Clock::time_point deadline;
    std::vector<std::string> members;
    std::size_t bytes = 0;
};

enum class Link {
    Connecting,  // no connection; the next attempt is planned
    Awaiting,    // connected, Welcome not yet received
    Up,          // accepted
    Refused,     // not allowed: no retry
};

}  // namespace gsdk::sg::client

struct sg_client : gsdk::LibraryClient<gsdk::sg::client::Happening> {
    sg_client(const sg_callbacks& cb, void* user_data, std::string path);

    int open_and_connect();
    int broadcast(const void* payload, std::size_t len);
    int request_status(unsigned timeout_ms);
    bool connected();
    int64_t messages_lost();

    const sg_callbacks callbacks;
    void* const user;

private:
    using Happening = gsdk::sg::client::Happening;
    using Link = gsdk::sg::client::Link;

    // All below run with mu_ held.
    void say_hello();
    void lost(const std::string& reason);
    bool refused_by_mode(int error);
    void handle_datagram(const char* data, std::size_t len);
    void end_query(int error, const std::string& reason);
    int usable() const;
    void expire(TimePoint now) override;
    void consider_deadlines(Deadlines& d) const override;

    void deliver(Happening& h) override;

    Link link_ = Link::Connecting;
    std::optional<bool> host_up_;
    int refused_error_ = 0;
    TimePoint welcome_deadline_{};
    std::optional<gsdk::sg::client::PendingQuery> query_;
    uint32_t next_query_id_ = 1;
    uint64_t lost_total_ = 0;
};
