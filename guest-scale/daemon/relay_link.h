// guest-scaled's link to the host: a local service on server-groupd's
// service socket (server-group/proto/local_service_ipc.proto). It claims
// cgcs.scale, receives what the host sends there (the envelope's data and
// its source_addr) and sends replies addressed to that source_addr. The
// connection is re-made with back-off whenever server-groupd restarts or
// refuses the claim (the address may still be held by a previous instance).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "gsdk/event_loop.h"
#include "gsdk/ipc_client.h"

namespace gsdk::scale {

class RelayLink {
public:
    struct Callbacks {
        // What the host sent to cgcs.scale.
        std::function<void(const std::string& source_addr, const std::string& data_json)> delivered;
        // The claim was accepted (true) or the link is lost (false).
        std::function<void(bool claimed)> claimed;
    };

    RelayLink(EventLoop& loop, std::string service_socket, std::string address, Callbacks callbacks);
    ~RelayLink();

    int start();
    void stop();
    // To the host at dest_addr; 0 or a negative errno (not claimed, queue full).
    int send(const std::string& dest_addr, const std::string& data_json);
    bool claimed() const { return claimed_; }
    bool host_connected() const { return host_connected_; }

private:
    void connected();
    void received(const char* data, std::size_t len);
    void lost(const std::string& reason);
    void pump();

    EventLoop& loop_;
    std::string address_;
    Callbacks callbacks_;
    IpcClient client_;
    std::unique_ptr<FdWatch> watch_;
    bool claimed_ = false;
    bool host_connected_ = false;
};

}  // namespace gsdk::scale
