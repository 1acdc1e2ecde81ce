// The control API (host/proto/vmhost_control.proto) on a SOCK_SEQPACKET
// socket: each Request is answered on the connection it came from; a
// TriggerAction is answered when the action has finished.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "event_log.h"
#include "gsdk/ipc_server.h"
#include "supervised_vm.h"
#include "vmhost_control.pb.h"

namespace vmhost {

class ServerGroupRelay;

class ControlService {
public:
    ControlService(gsdk::EventLoop& loop, EventLog& events, std::vector<std::unique_ptr<SupervisedVm>>& vms);

    // Server-group requests are refused until a relay is set.
    void set_server_groups(ServerGroupRelay* relay) { groups_ = relay; }
    int listen(const std::string& path);
    void shutdown();

private:
    void on_message(gsdk::IpcPeer& peer, std::string_view bytes);
    void list_vms(control::Reply* reply);
    void get_events(const control::GetEvents& request, control::Reply* reply);
    void trigger(uint64_t peer_id, uint64_t request_id, const control::TriggerAction& request);
    void send(uint64_t peer_id, const control::Reply& reply);
    SupervisedVm* find_vm(const std::string& name);
    void groups(const control::Request& request, control::Reply* reply);

    EventLog& events_;
    std::vector<std::unique_ptr<SupervisedVm>>& vms_;
    gsdk::IpcServer server_;
    ServerGroupRelay* groups_ = nullptr;
};

}  // namespace vmhost
