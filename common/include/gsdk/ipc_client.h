// The library end of a library <-> daemon socket (SOCK_SEQPACKET, one
// protobuf per datagram), for client libraries that live inside the
// application's own loop, as sd-event's embeddable loops do: one stable
// descriptor to poll, the next deadline, and a process() call. No threads,
// no libevent. It connects without blocking (even when the daemon's backlog
// is full), reconnects with exponential back-off and jitter, keeps an
// outbox while the daemon's queue is full, and passes descriptors.
//
// Not thread-safe: the owning library serialises calls (its own lock).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gsdk {

class IpcClient {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    struct Options {
        std::string path;
        std::chrono::milliseconds first_backoff{50};  // a restarting daemon is usually back within a second
        std::chrono::milliseconds max_backoff{2000};
        std::size_t outbox_limit = 256;
        int datagrams_per_process = 64;  // bounded so one busy connection cannot starve the application
    };
    struct Callbacks {
        // A connection is up: the owner sends its first message.
        std::function<void()> connected;
        // One datagram; passed_fd is the descriptor that came with it or -1
        // (closed by the client after the call: dup it to keep it).
        std::function<void(const char* data, std::size_t len, int passed_fd)> received;
        // The connection was lost (not called for disconnect()).
        std::function<void(const std::string& reason)> lost;
        // Something the daemon sent was dropped (for the owner's log).
        std::function<void(const std::string& what)> dropped;
        // A planned reconnect failed with this negative errno; return true
        // to stop retrying (e.g. -EACCES: the socket's mode turns us away).
        std::function<bool(int error)> connect_failed;
    };

    IpcClient(Options options, Callbacks callbacks);
    ~IpcClient();
    IpcClient(const IpcClient&) = delete;
    IpcClient& operator=(const IpcClient&) = delete;

    // Creates the descriptor the application polls; 0 or a negative errno.
    int open();
    // Readable whenever process() has work: a datagram, a writable socket
    // with an outbox, or a deadline reached.
    int fd() const { return epoll_fd_; }
    const std::string& path() const { return options_.path; }

    // Connects at once; 0 (and the connected callback ran) or a negative errno.
    int connect_now();
    // Connects at the next back-off step (doubling, +-25% jitter so that many
    // clients do not knock at the same instant).
    void connect_later();
    // The next connect_later() starts from the first back-off step again.
    void reset_backoff() { backoff_ = std::chrono::milliseconds(0); }
    // Closes the connection, drops the outbox and any planned reconnect; no callback.
    void disconnect();
    bool connected() const { return sock_ >= 0; }
    bool reconnect_planned() const { return reconnect_at_.has_value(); }
    // Bumped by every new connection, so owners can drop stale work.
    uint64_t generation() const { return generation_; }

    // Queues one message: sent now if possible, else kept in order.
    // -ENOTCONN, -ENOBUFS (the daemon stopped reading), -EMSGSIZE, or 0.
    int send(std::string_view message);
    // Sends what is queued and then one message, now or never (for goodbyes).
    int send_final(std::string_view message);
    // Discards datagrams not yet read, so that closing does not reset a
    // connection whose last message the daemon has still to read.
    void discard_unread();

    // Does what is due: reconnects, flushes the outbox, reads datagrams.
    void process();
    // Arms the descriptor for the earliest of the client's own deadline and
    // `also` (the owner's deadlines); nullopt = nothing due.
    void arm(std::optional<TimePoint> also);
    // The client's own next deadline (a planned reconnect).
    std::optional<TimePoint> deadline() const { return reconnect_at_; }
    // Milliseconds until the earliest of that and `also`, for a caller's
    // poll(): 0 when due, -1 when nothing is.
    int timeout_ms(std::optional<TimePoint> also) const;
    // What a library tells its caller when the socket's mode (not the
    // daemon) turned this uid away with `error`, naming the daemon, the
    // socket and the settings that decide it.
    std::string refused_by_mode_text(const char* daemon, int error) const;

private:
    void close_socket();
    void lose(const std::string& reason);
    void flush();
    void watch_out(bool want);
    void receive();

    Options options_;
    Callbacks callbacks_;
    int epoll_fd_ = -1;
    int timer_fd_ = -1;
    int sock_ = -1;
    bool watching_out_ = false;
    uint64_t generation_ = 0;
    std::deque<std::string> outbox_;
    std::chrono::milliseconds backoff_{0};
    std::optional<TimePoint> reconnect_at_;
    unsigned jitter_seed_;
};

}  // namespace gsdk
