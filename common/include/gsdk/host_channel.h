// The byte stream to the host: a virtio-serial port (guest daemons), or a UNIX
// stream socket we listen on (playing QEMU's chardev end, for simulated VMs and
// tests), or one we connect to (the host side, reaching a VM's chardev).
// Carries JSON lines; handles the port quirks of docs/protocols/virtio-serial-ports.md:
//  - EBUSY/ENOENT on open: retried with back-off, logged once per episode;
//  - no host connected: POLLHUP is constant, so the read watch is dropped and
//    the port is probed (POLLOUT without POLLHUP) on a back-off timer instead
//    of spinning;
//  - short writes and EAGAIN: an output queue, flushed when writable;
//  - many lines a wake-up (a relay fanning out a burst): what send() queues
//    is written once the loop turns, one write for all of them;
//  - no message boundaries: LineSplitter.
// Nothing here blocks the loop: connect mode connects without blocking (a VM
// whose QEMU is stopped has a full backlog: EAGAIN, retried with back-off);
// listen mode backs off when accept() runs out of descriptors. The one
// bounded wait is stop(), which gives queued output (a goodbye) up to
// stop_flush to reach the peer. Repeated log lines are rate-limited.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gsdk/event_loop.h"
#include "gsdk/json_line.h"

namespace gsdk {

struct ChannelAddress {
    enum class Kind { Device, Listen, Connect };
    Kind kind = Kind::Device;
    std::string path;

    // "unix:PATH" -> Listen (or Connect if connect_unix), anything else a device path.
    static std::optional<ChannelAddress> parse(std::string_view spec, bool connect_unix = false);
    std::string describe() const;
};

class HostChannel {
public:
    struct Callbacks {
        std::function<void()> connected;
        std::function<void(std::string_view line)> line;
        std::function<void(const std::string& cause)> disconnected;
    };

    HostChannel(EventLoop& loop, ChannelAddress address, Callbacks callbacks, std::size_t max_line = kMaxJsonLine);
    ~HostChannel();
    HostChannel(const HostChannel&) = delete;
    HostChannel& operator=(const HostChannel&) = delete;

    void start();
    // Writes what is queued (waiting up to the stop flush time, 1 s by
    // default, for the peer to take it), then closes the connection (and
    // listening socket); start() may be called again.
    void stop();
    bool connected() const { return conn_fd_ >= 0 && peer_present_; }
    // Queues bytes for the host, written when the loop next turns (with
    // whatever else is queued by then). Returns -ENOTCONN (nothing queued)
    // while no host is connected, -ENOBUFS if the queue is full, else 0.
    int send(std::string_view bytes);
    // Bytes accepted by send() but not yet written.
    std::size_t pending_output() const { return output_.size(); }
    const ChannelAddress& address() const { return address_; }

    // Longest wait between probes while the host is away (tests shorten it).
    void set_max_retry(Millis max_retry) { max_retry_ = max_retry; }
    // How long stop() may wait for queued output to be written (0: not at all).
    void set_stop_flush(Millis flush) { stop_flush_ = flush; }

    // What the channel did, so tests can tell a back-off from a busy loop by
    // counting attempts instead of timing them.
    struct Counters {
        uint64_t open_attempts = 0;    // device open / connect / listen
        uint64_t probes = 0;           // device: polls for a returning host
        uint64_t accept_attempts = 0;  // listen: accept() calls
        uint64_t reads = 0;            // read() calls
        uint64_t writes = 0;           // write()/send() calls
    };
    const Counters& counters() const { return counters_; }

private:
    void try_open();
    void try_listen();
    void accept_ready();
    void probe_peer();
    void readable();
    void writable();
    void became_connected();
    void lost(const std::string& cause);
    void schedule_retry();
    void close_connection();
    void watch_connection(int fd);
    void connect_finished();
    void flush_before_close();
    void accept_backoff(int err);

    EventLoop& loop_;
    ChannelAddress address_;
    Callbacks callbacks_;
    LineSplitter splitter_;
    int conn_fd_ = -1;
    int listen_fd_ = -1;
    bool peer_present_ = false;
    bool connecting_ = false;  // connect mode: a non-blocking connect in progress
    bool accept_paused_ = false;
    bool stopped_ = true;
    std::string output_;
    std::unique_ptr<FdWatch> read_watch_;
    std::unique_ptr<FdWatch> write_watch_;
    std::unique_ptr<FdWatch> accept_watch_;
    Timer retry_timer_;
    Timer flush_timer_;  // zero delay: writes what send() queued this turn
    Millis retry_delay_{50};
    Millis max_retry_{500};
    Millis accept_retry_{100};
    Millis stop_flush_{1000};
    int last_open_errno_ = 0;
    Counters counters_;
};

}  // namespace gsdk
