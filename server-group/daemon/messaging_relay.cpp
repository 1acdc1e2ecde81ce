#include "messaging_relay.h"

#include <cerrno>

#include "gsdk/log.h"
#include "server_group_limits.h"

namespace gsdk::sg {

MessagingRelay::MessagingRelay(EventLoop& loop, ChannelAddress address, std::function<void(bool)> host_link)
    : channel_(loop, std::move(address),
               HostChannel::Callbacks{
                   [this] {
                       if (host_link_) host_link_(true);
                   },
                   [this](std::string_view line) { received(line); },
                   [this](const std::string&) {
                       if (host_link_) host_link_(false);
                   },
               },
               kMaxHostLine),
      host_link_(std::move(host_link)) {}

void MessagingRelay::start() { channel_.start(); }

void MessagingRelay::stop() { channel_.stop(); }

bool MessagingRelay::attach(const std::string& address, Endpoint endpoint) {
    return endpoints_.emplace(address, std::move(endpoint)).second;
}

void MessagingRelay::detach(const std::string& address) { endpoints_.erase(address); }

void MessagingRelay::received(std::string_view line) {
    ++counters_.lines_in;
    auto decoded = sgwire::parse_envelope(line, sgwire::Origin::Host);
    if (auto* bad = std::get_if<sgwire::EnvelopeError>(&decoded)) {
        ++counters_.malformed;
        LOG_RATELIMITED(LogLevel::Warning, bad->detail, "dropped a line from the host (%s): %.100s",
                        bad->detail.c_str(), std::string(line).c_str());
        return;
    }
    const auto& envelope = std::get<sgwire::Envelope>(decoded);
    auto it = endpoints_.find(envelope.dest_addr);
    if (it == endpoints_.end()) {
        ++counters_.unrouted;
        LOG_RATELIMITED(LogLevel::Warning, envelope.dest_addr,
                        "no local service at address %s; a message from %s dropped (%llu so far)",
                        envelope.dest_addr.c_str(), envelope.source_addr.c_str(),
                        static_cast<unsigned long long>(counters_.unrouted));
        return;
    }
    // A copy: the endpoint may detach itself (and so free its function) while running.
    Endpoint endpoint = it->second;
    endpoint(envelope);
}

int MessagingRelay::send(const std::string& source_addr, const std::string& dest_addr, const nlohmann::json& data) {
    if (!sgwire::valid_address(source_addr) || !sgwire::valid_address(dest_addr)) return -EINVAL;
    if (!channel_.connected()) {
        ++counters_.not_sent;
        return -EHOSTDOWN;
    }
    std::string line = sgwire::encode_envelope_line(sgwire::Envelope{source_addr, dest_addr, data});
    if (line.size() > kMaxHostLine + 2) {  // the framing newlines are not the line
        ++counters_.not_sent;
        return -EMSGSIZE;
    }
    int rc = channel_.send(line);
    if (rc == -ENOTCONN) rc = -EHOSTDOWN;
    if (rc < 0)
        ++counters_.not_sent;
    else
        ++counters_.lines_out;
    return rc;
}

}  // namespace gsdk::sg
