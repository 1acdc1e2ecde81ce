// Server-group messaging end to end, with nothing simulated but the VMs'
// hardware: the real vmhostd relays between simulated VMs, each one a real
// server-groupd (--listen unix:, its own socket directory) and a real
// guest-heartbeatd, and the members are libserver_group clients (in this
// process, and sg_probe processes). Groups:
//   g1: vm-1, vm-2, vm-3        g2: vm-4
// The VMs' executor is a script that does to a VM's daemons what a
// hypervisor would do to the VM: stop = SIGKILL, pause = SIGSTOP,
// unpause = SIGCONT (and appends "VM ACTION" to a marker file).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sg_fixture.h"
#include "test_process.h"

namespace gsdk::test {

using namespace std::chrono_literals;

// Generous: the machine is shared, and the ASan build is slow.
inline constexpr std::chrono::milliseconds kE2eDeadline = 30s;

struct SimulatedVm {
    std::string name;
    std::string dir;
    Subprocess messaging;  // server-groupd
    Subprocess heartbeat;  // guest-heartbeatd
    std::string sg_config;
    std::string messaging_socket() const { return dir + "/msg.sock"; }
    std::string heartbeat_socket() const { return dir + "/hb.sock"; }
    std::string client_socket() const { return dir + "/sg/client.sock"; }
    std::string sg_log() const { return dir + "/server-groupd.log"; }
    std::string hb_log() const { return dir + "/guest-heartbeatd.log"; }
};

class ServerGroupCluster : public ::testing::Test {
protected:
    static constexpr int kVms = 4;

    void SetUp() override;
    void TearDown() override;

    // Set before start(): vmhostd's messaging_limits, and server_group.conf
    // lines added for one VM (1-based).
    nlohmann::json messaging_limits;
    std::map<int, std::string> extra_sg_config;
    // Starts every VM, vmhostd, and one member per VM; waits until each
    // member's status answer shows its whole group connected.
    void start();

    SimulatedVm& vm(int i) { return *vms_[i - 1]; }
    Member& member(int i) { return *members_[i - 1]; }
    std::vector<Member*> all_members();
    static std::string name(int i) { return "vm-" + std::to_string(i); }
    static std::vector<int> group_of(int i) { return i <= 3 ? std::vector<int>{1, 2, 3} : std::vector<int>{4}; }

    void start_vm_daemons(int i);
    void start_heartbeat(int i);
    void start_vmhostd();
    // Runs every member given until pred() holds; false at the deadline.
    static bool pump(const std::vector<Member*>& members, const std::function<bool()>& pred,
                     std::chrono::milliseconds deadline = kE2eDeadline);
    // Status queries (again, while the host is away or a member is not yet
    // connected) until member i's answer has its whole group connected and,
    // with heartbeats_active, every member's heartbeat session active.
    bool wait_group_connected(int i, std::chrono::milliseconds deadline = kE2eDeadline, bool heartbeats_active = false);
    // The status answer of one query of member i (error 0 and the members).
    Member::StatusEnd status_of(int i);
    // A status query of member i answered: the host has written everything
    // it had for that VM before the answer, so what has not arrived will not.
    void settle(int i);

    // vmhostctl with this cluster's control socket; exit status in *status.
    std::string ctl(const std::vector<std::string>& args, int* status = nullptr);
    nlohmann::json member_counters(const std::string& group, const std::string& vm);
    std::string actions_marker() const { return root / "actions"; }

    TempDir root;
    Subprocess vmhostd;
    bool own_network = false;  // a network namespace of our own: vm-1 serves the original library

private:
    std::vector<std::unique_ptr<SimulatedVm>> vms_;
    std::vector<std::unique_ptr<Member>> members_;
};

// The JSON of each notification member m received, parsed.
std::vector<nlohmann::json> notifications_of(const Member& m);
// Those about `vm` with event_type `event`.
int count_notifications(const Member& m, const std::string& vm, const std::string& event);
// Every broadcast m received from `source`, in order.
std::vector<std::string> payloads_from(const Member& m, const std::string& source);

}  // namespace gsdk::test
