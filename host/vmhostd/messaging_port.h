// One VM's cgcs.messaging port, host end (docs/vmhost.md "Server groups"):
// vmhostd connects to the VM's socket (a QEMU chardev or a simulated VM's
// server-groupd) and speaks envelope version 2, the layer shared by the
// server-group relay and vCPU scaling:
//   guest -> host  {"version":2, "source_addr":"<guest service>", "dest_addr":"<host service>", "data":{...}}
//   host -> guest  {"version":2, "source_addr":"<host service>", "dest_addr":"<guest service>", "data":{...}}
// The port bounds what one guest can cost the host: a line limit, a message
// rate (token bucket, applied before any parsing) and a cap on the bytes
// queued for a guest that does not read. Lines are written "{...}\n", as the
// real host writes them (docs/decisions/0014-server-group-relay.md).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "gsdk/event_loop.h"
#include "gsdk/host_channel.h"
#include "host_config.h"
#include "token_bucket.h"

namespace vmhost {

// Longest envelope line accepted from a guest: a 3050-byte payload stays
// under it even with every byte escaped as \uXXXX (6 x 3050) plus the keys.
inline constexpr std::size_t kMaxMessagingLine = 32 * 1024;
// Service addresses on the port are at most 16 bytes (PROTOCOLS.md).
inline constexpr std::size_t kMaxServiceAddress = 16;

struct Envelope {
    std::string source_addr;
    std::string dest_addr;
    nlohmann::json data;  // always an object
};

// Decodes a guest's line; on failure returns false with the reason and,
// when the line got that far, the inner msg_type (for the nack).
bool decode_envelope(const nlohmann::json& line, Envelope* out, std::string* reason, std::string* msg_type);
// "{...}\n" with UTF-8 kept as is (payloads stay byte-exact).
std::string encode_envelope(const Envelope& envelope);

class MessagingPort {
public:
    struct Counters {
        uint64_t lines_in = 0;      // complete lines received
        uint64_t rate_dropped = 0;  // lines over the rate limit, dropped unread
        uint64_t rejected = 0;      // lines that were too long or not an envelope
        uint64_t lines_out = 0;     // lines queued for the guest
        uint64_t send_dropped = 0;  // lines not sent: not connected, or the guest's queue full
    };
    struct Callbacks {
        std::function<void()> connected;
        std::function<void(const std::string& cause)> disconnected;
        std::function<void(Envelope&& envelope)> envelope;
        // A line that is not a valid envelope (answered by the owner, if at all).
        std::function<void(const std::string& reason, const std::string& msg_type)> rejected;
        // A line was dropped over the rate limit (counted already).
        std::function<void()> rate_limited;
    };

    MessagingPort(gsdk::EventLoop& loop, std::string vm, gsdk::ChannelAddress address, const MessagingLimits& limits,
                  Callbacks callbacks);

    void start() { channel_.start(); }
    void stop() { channel_.stop(); }
    bool connected() const { return channel_.connected(); }
    const std::string& vm() const { return vm_; }
    const gsdk::ChannelAddress& address() const { return channel_.address(); }
    // Queues one encoded line: -ENOTCONN, -ENOBUFS (the guest is not reading:
    // its queue is at the limit) or 0. Failures are counted.
    int send_line(const std::string& line);
    const Counters& counters() const { return counters_; }

private:
    void on_line(std::string_view line);

    std::string vm_;
    std::size_t queue_bytes_;
    Callbacks callbacks_;
    gsdk::HostChannel channel_;
    TokenBucket bucket_;
    Counters counters_;
};

}  // namespace vmhost
