#include "host_config.h"

#include <sys/un.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace vmhost {

namespace {

using nlohmann::json;

// Thrown inside the parser only; turned into the caller's error string.
struct ConfigError {
    std::string key;
    std::string problem;
};

void only_keys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
    for (const auto& [key, value] : obj.items()) {
        bool known = false;
        for (const char* a : allowed) known = known || key == a;
        if (!known) throw ConfigError{where.empty() ? key : where + "." + key, "unknown key"};
    }
}

const json& member(const json& obj, const std::string& where, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) throw ConfigError{where.empty() ? key : where + "." + key, "missing"};
    return *it;
}

std::string text(const json& value, const std::string& key) {
    if (!value.is_string()) throw ConfigError{key, "must be a string"};
    std::string s = value.get<std::string>();
    if (s.empty()) throw ConfigError{key, "must not be empty"};
    return s;
}

long long integer(const json& value, const std::string& key, long long min, long long max) {
    if (!value.is_number_integer()) throw ConfigError{key, "must be an integer"};
    long long v = value.get<long long>();
    if (v < min || v > max)
        throw ConfigError{key, "must be between " + std::to_string(min) + " and " + std::to_string(max)};
    return v;
}

std::string socket_path(const json& value, const std::string& key) {
    std::string path = text(value, key);
    if (path.size() >= sizeof(sockaddr_un::sun_path))
        throw ConfigError{key, "path longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes"};
    return path;
}

ExecutorConfig parse_executor(const json& obj, const std::string& where) {
    if (!obj.is_object()) throw ConfigError{where, "must be an object"};
    ExecutorConfig e;
    std::string type = text(member(obj, where, "type"), where + ".type");
    if (type == "command") {
        only_keys(obj, where, {"type", "argv", "timeout_secs"});
        const json& argv = member(obj, where, "argv");
        if (!argv.is_array() || argv.empty())
            throw ConfigError{where + ".argv", "must be a non-empty array of strings"};
        for (std::size_t i = 0; i < argv.size(); ++i)
            e.argv.push_back(text(argv[i], where + ".argv[" + std::to_string(i) + "]"));
        if (e.argv[0][0] != '/') throw ConfigError{where + ".argv[0]", "must be an absolute path"};
        e.type = ExecutorConfig::Type::Command;
    } else if (type == "qmp") {
        only_keys(obj, where, {"type", "socket", "timeout_secs"});
        e.qmp_socket = socket_path(member(obj, where, "socket"), where + ".socket");
        e.type = ExecutorConfig::Type::Qmp;
    } else {
        throw ConfigError{where + ".type", "\"" + type + "\" is not command or qmp"};
    }
    if (auto it = obj.find("timeout_secs"); it != obj.end())
        e.timeout = gsdk::Millis(1000 * integer(*it, where + ".timeout_secs", 1, 3600));
    return e;
}

VmConfig parse_vm(const json& obj, const std::string& where) {
    if (!obj.is_object()) throw ConfigError{where, "must be an object"};
    only_keys(obj, where, {"name", "heartbeat", "executor", "messaging"});
    VmConfig vm;
    vm.name = text(member(obj, where, "name"), where + ".name");
    if (!valid_object_name(vm.name))
        throw ConfigError{where + ".name", "\"" + vm.name + "\" must be 1-64 of [A-Za-z0-9._-], not starting with -"};
    std::string hb = text(member(obj, where, "heartbeat"), where + ".heartbeat");
    auto address = gsdk::ChannelAddress::parse(hb, true);
    if (hb.rfind("unix:", 0) != 0 || !address)
        throw ConfigError{where + ".heartbeat",
                          "\"" + hb + "\" must be unix:PATH (a socket path shorter than 108 bytes)"};
    vm.heartbeat = *address;
    vm.executor = parse_executor(member(obj, where, "executor"), where + ".executor");
    if (auto it = obj.find("messaging"); it != obj.end()) {
        std::string spec = text(*it, where + ".messaging");
        auto messaging = gsdk::ChannelAddress::parse(spec, true);
        if (spec.rfind("unix:", 0) != 0 || !messaging)
            throw ConfigError{where + ".messaging",
                              "\"" + spec + "\" must be unix:PATH (a socket path shorter than 108 bytes)"};
        vm.messaging = *messaging;
    }
    return vm;
}

MessagingLimits parse_messaging_limits(const json& obj) {
    const std::string where = "messaging_limits";
    if (!obj.is_object()) throw ConfigError{where, "must be an object"};
    only_keys(obj, where, {"messages_per_sec", "burst", "queue_bytes"});
    MessagingLimits limits;
    if (auto it = obj.find("messages_per_sec"); it != obj.end())
        limits.messages_per_sec = static_cast<unsigned>(integer(*it, where + ".messages_per_sec", 1, 100000));
    if (auto it = obj.find("burst"); it != obj.end())
        limits.burst = static_cast<unsigned>(integer(*it, where + ".burst", 1, 100000));
    // The channel itself holds at most 1 MiB of output.
    if (auto it = obj.find("queue_bytes"); it != obj.end())
        limits.queue_bytes = static_cast<std::size_t>(integer(*it, where + ".queue_bytes", 65536, 1048576));
    return limits;
}

std::vector<ServerGroupConfig> parse_server_groups(const json& list, const std::set<std::string>& vms) {
    if (!list.is_array()) throw ConfigError{"server_groups", "must be an array"};
    if (list.size() > kMaxServerGroups)
        throw ConfigError{"server_groups", "more than " + std::to_string(kMaxServerGroups) + " groups"};
    std::vector<ServerGroupConfig> groups;
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
        std::string where = "server_groups[" + std::to_string(i) + "]";
        const json& obj = list[i];
        if (!obj.is_object()) throw ConfigError{where, "must be an object"};
        only_keys(obj, where, {"name", "members"});
        ServerGroupConfig g;
        g.name = text(member(obj, where, "name"), where + ".name");
        if (!valid_object_name(g.name))
            throw ConfigError{where + ".name",
                              "\"" + g.name + "\" must be 1-64 of [A-Za-z0-9._-], not starting with -"};
        if (!names.insert(g.name).second) throw ConfigError{where + ".name", "\"" + g.name + "\" is used twice"};
        const json& members = member(obj, where, "members");
        if (!members.is_array()) throw ConfigError{where + ".members", "must be an array of VM names"};
        std::set<std::string> seen;
        for (std::size_t m = 0; m < members.size(); ++m) {
            std::string key = where + ".members[" + std::to_string(m) + "]";
            std::string vm = text(members[m], key);
            if (!vms.count(vm)) throw ConfigError{key, "\"" + vm + "\" is not a VM of this file"};
            if (!seen.insert(vm).second) throw ConfigError{key, "\"" + vm + "\" is listed twice"};
            g.members.push_back(vm);
        }
        groups.push_back(std::move(g));
    }
    return groups;
}

HostConfig parse_root(const json& root) {
    if (!root.is_object()) throw ConfigError{"(top level)", "must be a JSON object"};
    only_keys(root, "", {"control_socket", "event_log_size", "vms", "messaging_limits", "server_groups"});
    HostConfig config;
    if (auto it = root.find("control_socket"); it != root.end())
        config.control_socket = socket_path(*it, "control_socket");
    if (auto it = root.find("event_log_size"); it != root.end())
        config.event_log_size = static_cast<std::size_t>(integer(*it, "event_log_size", 10, 1000000));
    const json& vms = member(root, "", "vms");
    if (!vms.is_array()) throw ConfigError{"vms", "must be an array"};
    std::set<std::string> names, sockets;
    for (std::size_t i = 0; i < vms.size(); ++i) {
        std::string where = "vms[" + std::to_string(i) + "]";
        VmConfig vm = parse_vm(vms[i], where);
        if (!names.insert(vm.name).second) throw ConfigError{where + ".name", "\"" + vm.name + "\" is used twice"};
        if (!sockets.insert(vm.heartbeat.path).second)
            throw ConfigError{where + ".heartbeat", "socket " + vm.heartbeat.path + " is used by another VM"};
        if (vm.messaging && !sockets.insert(vm.messaging->path).second)
            throw ConfigError{where + ".messaging", "socket " + vm.messaging->path + " is used twice"};
        config.vms.push_back(std::move(vm));
    }
    if (auto it = root.find("messaging_limits"); it != root.end())
        config.messaging_limits = parse_messaging_limits(*it);
    if (auto it = root.find("server_groups"); it != root.end()) config.server_groups = parse_server_groups(*it, names);
    return config;
}

}  // namespace

bool valid_object_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name[0] == '-') return false;
    for (char c : name)
        if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

std::optional<HostConfig> parse_host_config(const std::string& text, const std::string& origin, std::string* error) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        *error = origin + ": not valid JSON: " + e.what();
        return std::nullopt;
    }
    try {
        return parse_root(root);
    } catch (const ConfigError& e) {
        *error = origin + ": " + e.key + ": " + e.problem;
        return std::nullopt;
    }
}

std::optional<HostConfig> load_host_config(const std::string& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        *error = path + ": cannot read: " + std::strerror(errno);
        return std::nullopt;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse_host_config(buffer.str(), path, error);
}

}  // namespace vmhost
