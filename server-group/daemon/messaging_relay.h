// The guest end of cgcs.messaging: owns the port (or the --listen socket),
// decodes envelope v2 lines whatever their chunking, and routes each by
// dest_addr to the local endpoint attached for that address. Everything a
// local endpoint sends leaves here, with its own address as source_addr.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "gsdk/event_loop.h"
#include "gsdk/host_channel.h"
#include "messaging_envelope.h"

namespace gsdk::sg {

class MessagingRelay {
public:
    using Endpoint = std::function<void(const sgwire::Envelope&)>;

    struct Counters {
        uint64_t lines_in = 0;
        uint64_t malformed = 0;
        uint64_t unrouted = 0;
        uint64_t lines_out = 0;
        uint64_t not_sent = 0;
    };

    MessagingRelay(EventLoop& loop, ChannelAddress address, std::function<void(bool connected)> host_link);

    void start();
    void stop();
    bool host_connected() const { return channel_.connected(); }

    // Host messages for `address` go to `endpoint` until detached.
    // False if the address is taken.
    bool attach(const std::string& address, Endpoint endpoint);
    void detach(const std::string& address);
    bool attached(const std::string& address) const { return endpoints_.count(address) != 0; }

    // To the host: 0, -EHOSTDOWN (no host), -ENOBUFS (the port's output is
    // full), -EMSGSIZE (over the line limit), -EINVAL (bad address).
    int send(const std::string& source_addr, const std::string& dest_addr, const nlohmann::json& data);

    const Counters& counters() const { return counters_; }
    // Tests shorten the wait between probes for a host.
    void set_max_retry(Millis max_retry) { channel_.set_max_retry(max_retry); }

private:
    void received(std::string_view line);

    HostChannel channel_;
    std::function<void(bool)> host_link_;
    std::map<std::string, Endpoint, std::less<>> endpoints_;
    Counters counters_;
};

}  // namespace gsdk::sg
