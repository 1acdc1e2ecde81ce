// Every VM's messaging port, and which host service answers which address.
// The server-group relay serves "cgcs.server_grp"; vCPU scaling will serve
// its "scale-XXXXXXXX" addresses on the same ports. Lines no service claims,
// and lines that are not envelopes, go to the fallback service (the relay:
// the server-group layer is the only one with a nack).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gsdk/event_loop.h"
#include "host_config.h"
#include "messaging_port.h"

namespace vmhost {

class MessagingService {
public:
    virtual ~MessagingService() = default;
    virtual void port_connected(const std::string& vm) = 0;
    virtual void port_disconnected(const std::string& vm, const std::string& cause) = 0;
    virtual void received(const std::string& vm, Envelope&& envelope) = 0;
    // Fallback only: a line that is not an envelope or that no service claims.
    virtual void refused(const std::string& vm, const std::string& reason, const std::string& msg_type) {}
    // Fallback only: a line dropped over the VM's rate limit.
    virtual void rate_limited(const std::string& vm) {}
};

class MessagingHub {
public:
    MessagingHub(gsdk::EventLoop& loop, const std::vector<VmConfig>& vms, const MessagingLimits& limits);

    // `address` is matched exactly, or as a prefix when it ends in '*'.
    void serve(const std::string& address, MessagingService* service);
    void set_fallback(MessagingService* service) { fallback_ = service; }
    void start();
    void stop();
    // nullptr if the VM has no messaging socket configured.
    MessagingPort* port(const std::string& vm);
    const MessagingPort* port(const std::string& vm) const;

private:
    void route(const std::string& vm, Envelope&& envelope);
    MessagingService* service_for(const std::string& address) const;

    std::map<std::string, std::unique_ptr<MessagingPort>> ports_;
    std::vector<std::pair<std::string, MessagingService*>> services_;
    MessagingService* fallback_ = nullptr;
};

}  // namespace vmhost
