// Server groups and their members, with the relay's counters. Members are
// VMs of vmhostd's configuration; a VM may be in several groups. Changes come
// from the configuration file and, at run time, from the control API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "host_config.h"

namespace vmhost::sg {

inline constexpr std::size_t kMaxGroups = kMaxServerGroups;

struct GroupCounters {
    uint64_t broadcasts = 0;      // broadcasts accepted from members
    uint64_t deliveries = 0;      // broadcast copies written to members
    uint64_t notifications = 0;   // notifications written to members
    uint64_t status_queries = 0;  // status queries answered
    uint64_t dropped = 0;         // copies not written (member not connected, or its queue full)
};

struct MemberCounters {
    uint64_t broadcasts_in = 0;   // broadcasts this VM sent that were relayed
    uint64_t broadcasts_out = 0;  // broadcasts written to this VM
    uint64_t notifications = 0;   // notifications written to this VM
    uint64_t status_queries = 0;  // status queries from this VM answered
    uint64_t nacks = 0;           // nacks written to this VM
    uint64_t refused = 0;         // lines from this VM refused (answered with a nack)
    uint64_t dropped = 0;         // messages for this VM not written
};

struct ServerGroup {
    std::string name;
    std::vector<std::string> members;  // in the order they joined
    GroupCounters counters;
};

class GroupTable {
public:
    explicit GroupTable(std::set<std::string> known_vms) : known_vms_(std::move(known_vms)) {}

    // Each returns "" on success, else why nothing was changed.
    std::string create(const std::string& name, const std::vector<std::string>& members);
    std::string remove_group(const std::string& name);
    std::string add_members(const std::string& name, const std::vector<std::string>& vms);
    std::string remove_members(const std::string& name, const std::vector<std::string>& vms);

    const std::vector<ServerGroup>& groups() const { return groups_; }
    ServerGroup* find(const std::string& name);
    const ServerGroup* find(const std::string& name) const;
    // Groups the VM is in, in table order.
    std::vector<ServerGroup*> groups_of(const std::string& vm);
    std::vector<std::string> group_names_of(const std::string& vm) const;
    // Every member of the VM's groups, each once, in table order; the VM
    // itself only when include_self.
    std::vector<std::string> members_with(const std::string& vm, bool include_self) const;
    // The first group that has both VMs (where a copy between them is counted).
    ServerGroup* shared_group(const std::string& a, const std::string& b);

    MemberCounters& counters(const std::string& vm) { return member_counters_[vm]; }
    const MemberCounters* counters_of(const std::string& vm) const;
    bool known(const std::string& vm) const { return known_vms_.count(vm) > 0; }

private:
    std::string check_vms(const std::vector<std::string>& vms) const;

    std::set<std::string> known_vms_;
    std::vector<ServerGroup> groups_;
    std::map<std::string, MemberCounters> member_counters_;
};

}  // namespace vmhost::sg
