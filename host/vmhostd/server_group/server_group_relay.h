// The server-group relay of the reference host (docs/vmhost.md "Server
// groups"). It spans VMs and sits beside the VM list: it serves the address
// cgcs.server_grp on every VM's messaging port, relays a member's broadcast
// to every other member of its groups, answers status queries with one
// status_response per member and a status_response_done, tells members of
// each other's state changes (it observes every SupervisedVm), and answers
// what it cannot accept with a nack. Everything a guest can make it do is
// bounded by the port (rate, line length, queue) and counted here.
//
// For vCPU scaling: after a scale operation the scale code calls
// vm_changed(VmChange{VmChange::Kind::Scaled, vm, "up"|"down", detail,
// online_cpus}); the other members are then notified (scale_up/scale_down).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "event_log.h"
#include "messaging_hub.h"
#include "server_group/group_table.h"
#include "server_group/member_state.h"
#include "supervised_vm.h"
#include "token_bucket.h"
#include "vm_observer.h"
#include "vmhost_control.pb.h"

namespace vmhost {

class ServerGroupRelay : public MessagingService, public VmObserver {
public:
    ServerGroupRelay(EventLog& events, MessagingHub& hub, const std::vector<std::unique_ptr<SupervisedVm>>& vms,
                     const std::vector<ServerGroupConfig>& groups);

    // MessagingService
    void port_connected(const std::string& vm) override;
    void port_disconnected(const std::string& vm, const std::string& cause) override;
    void received(const std::string& vm, Envelope&& envelope) override;
    void refused(const std::string& vm, const std::string& reason, const std::string& msg_type) override;
    void rate_limited(const std::string& vm) override;

    // VmObserver
    void vm_changed(const VmChange& change) override;

    // Control API: list/show, and create/delete/add/remove. Return "" or why not.
    std::string list_groups(const std::string& group, control::GroupList* out) const;
    std::string change_group(const control::ChangeGroup& change, control::GroupList* out);
    // The server-group columns of `vmhostctl list`.
    void fill_vm_status(const std::string& vm, control::VmStatus* status) const;

private:
    // `reply_to`: the guest service that sent the request (answers and nacks go there).
    void broadcast(const std::string& from, const std::string& payload, const std::string& reply_to);
    void status_query(const std::string& from, int64_t seq, const std::string& reply_to);
    void refuse(const std::string& vm, const std::string& reason, const std::string& msg_type,
                const std::string& reply_to);
    // Writes one server-group message to a member; false if not written (counted).
    bool send(const std::string& to, const nlohmann::json& data, const std::string& dest_addr);
    bool send_line(const std::string& to, const std::string& line);
    // One notification about `about` to each of `members` but itself, counted
    // in `group` (default: the first group the two share).
    void notify(const std::vector<std::string>& members, const std::string& about, const nlohmann::json& change,
                sg::ServerGroup* group = nullptr);
    sg::MemberFacts facts(const std::string& vm) const;
    std::string messaging_state(const std::string& vm) const;
    std::string heartbeat_state(const std::string& vm) const;
    void fill_member(const std::string& vm, control::GroupMember* member) const;
    void fill_counters(const std::string& vm, control::MemberCounters* counters) const;
    // Events a guest causes: at most a few per second per VM, the rest counted.
    void record_guest(const std::string& vm, const std::string& kind, const std::string& detail,
                      gsdk::LogLevel level = gsdk::LogLevel::Warning);

    EventLog& events_;
    MessagingHub& hub_;
    const std::vector<std::unique_ptr<SupervisedVm>>& vms_;
    sg::GroupTable table_;
    std::map<std::string, sg::MemberState> states_;
    std::string host_;
    struct LogBudget {
        TokenBucket bucket{1.0, 5.0};
        uint64_t held = 0;
    };
    std::map<std::string, LogBudget> log_budgets_;
};

}  // namespace vmhost
