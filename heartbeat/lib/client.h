// The state behind a ghb_client handle: one registration, its daemon
// connection, and the descriptors the application waits on. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "answer_slot.h"
#include "gsdk/library_client.h"
#include "guest_heartbeat.h"

namespace gsdk::heartbeat {

using Clock = std::chrono::steady_clock;

// Something for process() to hand to a callback once the state lock is released.
struct Happening {
    enum class Kind { Registered, Challenge, Action } kind = Kind::Registered;
    bool registered = false;
    std::string reason;
    uint64_t challenge_id = 0;
    uint64_t generation = 0;  // the connection it came from; stale ones are dropped
    ghb_action action = GHB_ACTION_UNKNOWN;
    ghb_action_notice notice{};
};

// An action notice the application has not answered yet.
struct PendingAction {
    ghb_event event;
    ghb_notify_type notify_type;
    Clock::time_point deadline;
};

struct Registration {
    std::string name;
    ghb_registration fields{};
    unsigned flags = 0;
};

enum class Phase {
    Idle,         // nothing to do until register
    Backoff,      // waiting to reconnect
    Registering,  // connected, Register sent, waiting for the answer
    Registered,
};

}  // namespace gsdk::heartbeat

struct ghb_client : gsdk::LibraryClient<gsdk::heartbeat::Happening> {
    ghb_client(const ghb_callbacks& cb, void* user_data, std::string path);
    ~ghb_client() override;

    int open_descriptors();
    int start(const ghb_registration& registration, unsigned flags);
    int deregister(const char* log_msg);
    int respond(int32_t invocation_id, ghb_vote_result result, const char* log_msg);
    bool registered();
    // EACCES after the daemon refused this client for its credentials, else 0.
    int refusal() const { return refusal_; }

    const ghb_callbacks callbacks;
    void* const user;

private:
    using Happening = gsdk::heartbeat::Happening;
    using Phase = gsdk::heartbeat::Phase;

    // All below run with mu_ held.
    void send_register();
    void retry_later();
    void lost(const std::string& reason);
    void forget_connection();
    int send_message(const std::string& bytes);
    void handle_datagram(const char* data, std::size_t len, int passed_fd);
    void map_answer_slot(int fd);
    void unmap_answer_slot();
    void expire(TimePoint now) override;
    void consider_deadlines(Deadlines& d) const override;
    void send_health(uint64_t challenge_id, const ghb_health& health);

    void deliver(Happening& h) override;

    Phase phase_ = Phase::Idle;
    std::optional<gsdk::heartbeat::Registration> registration_;
    TimePoint result_deadline_{};
    int register_error_ = 0;  // why the last registration could not be sent
    std::map<int32_t, gsdk::heartbeat::PendingAction> pending_;
    // The daemon's answer slot for this connection, if it gave one; used only
    // while the last answer sent was a plain "healthy", so that every change
    // still goes as a message and reaches the daemon at once.
    const bool wants_answer_slot_;
    gsdk::heartbeat::ipc::AnswerSlot* answer_slot_ = nullptr;
    bool last_answer_plain_ = true;
    std::atomic<int> refusal_{0};
};
