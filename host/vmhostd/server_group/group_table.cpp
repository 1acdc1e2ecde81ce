#include "group_table.h"

#include <algorithm>

#include "host_config.h"

namespace vmhost::sg {

namespace {
bool contains(const std::vector<std::string>& list, const std::string& s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}
}  // namespace

std::string GroupTable::check_vms(const std::vector<std::string>& vms) const {
    std::set<std::string> seen;
    for (const auto& vm : vms) {
        if (!known(vm)) return "unknown VM \"" + vm + "\"";
        if (!seen.insert(vm).second) return "VM \"" + vm + "\" is listed twice";
    }
    return "";
}

std::string GroupTable::create(const std::string& name, const std::vector<std::string>& members) {
    if (!valid_object_name(name))
        return "group name \"" + name + "\" must be 1-64 of [A-Za-z0-9._-], not starting with -";
    if (find(name)) return "server group \"" + name + "\" exists already";
    if (groups_.size() >= kMaxGroups) return "too many server groups (at most " + std::to_string(kMaxGroups) + ")";
    if (auto e = check_vms(members); !e.empty()) return e;
    groups_.push_back(ServerGroup{name, members, {}});
    return "";
}

std::string GroupTable::remove_group(const std::string& name) {
    auto it = std::find_if(groups_.begin(), groups_.end(), [&](const ServerGroup& g) { return g.name == name; });
    if (it == groups_.end()) return "unknown server group \"" + name + "\"";
    groups_.erase(it);
    return "";
}

std::string GroupTable::add_members(const std::string& name, const std::vector<std::string>& vms) {
    ServerGroup* g = find(name);
    if (!g) return "unknown server group \"" + name + "\"";
    if (vms.empty()) return "no VM named";
    if (auto e = check_vms(vms); !e.empty()) return e;
    for (const auto& vm : vms)
        if (contains(g->members, vm)) return "VM \"" + vm + "\" is already a member of \"" + name + "\"";
    g->members.insert(g->members.end(), vms.begin(), vms.end());
    return "";
}

std::string GroupTable::remove_members(const std::string& name, const std::vector<std::string>& vms) {
    ServerGroup* g = find(name);
    if (!g) return "unknown server group \"" + name + "\"";
    if (vms.empty()) return "no VM named";
    if (auto e = check_vms(vms); !e.empty()) return e;
    for (const auto& vm : vms)
        if (!contains(g->members, vm)) return "VM \"" + vm + "\" is not a member of \"" + name + "\"";
    std::erase_if(g->members, [&](const std::string& m) { return contains(vms, m); });
    return "";
}

ServerGroup* GroupTable::find(const std::string& name) {
    for (auto& g : groups_)
        if (g.name == name) return &g;
    return nullptr;
}

const ServerGroup* GroupTable::find(const std::string& name) const {
    for (const auto& g : groups_)
        if (g.name == name) return &g;
    return nullptr;
}

std::vector<ServerGroup*> GroupTable::groups_of(const std::string& vm) {
    std::vector<ServerGroup*> out;
    for (auto& g : groups_)
        if (contains(g.members, vm)) out.push_back(&g);
    return out;
}

std::vector<std::string> GroupTable::group_names_of(const std::string& vm) const {
    std::vector<std::string> out;
    for (const auto& g : groups_)
        if (contains(g.members, vm)) out.push_back(g.name);
    return out;
}

std::vector<std::string> GroupTable::members_with(const std::string& vm, bool include_self) const {
    std::vector<std::string> out;
    for (const auto& g : groups_) {
        if (!contains(g.members, vm)) continue;
        for (const auto& m : g.members)
            if ((include_self || m != vm) && !contains(out, m)) out.push_back(m);
    }
    return out;
}

ServerGroup* GroupTable::shared_group(const std::string& a, const std::string& b) {
    for (auto& g : groups_)
        if (contains(g.members, a) && contains(g.members, b)) return &g;
    return nullptr;
}

const MemberCounters* GroupTable::counters_of(const std::string& vm) const {
    auto it = member_counters_.find(vm);
    return it == member_counters_.end() ? nullptr : &it->second;
}

}  // namespace vmhost::sg
