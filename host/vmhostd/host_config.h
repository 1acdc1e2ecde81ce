// vmhostd's JSON configuration: the control socket and the VMs it supervises.
// Strict on purpose: an unknown key or a bad value is an error naming the key
// and the file, so a typo never silently leaves a VM unsupervised.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "gsdk/event_loop.h"
#include "gsdk/host_channel.h"

namespace vmhost {

struct ExecutorConfig {
    enum class Type { Command, Qmp };
    Type type = Type::Command;
    std::vector<std::string> argv;  // command: run as argv + [vm, action]
    std::string qmp_socket;         // qmp: QEMU's QMP socket path
    gsdk::Millis timeout{60000};    // the command is killed / the QMP exchange abandoned after this
};

struct VmConfig {
    std::string name;
    gsdk::ChannelAddress heartbeat;  // always Kind::Connect
    ExecutorConfig executor;
    // The VM's cgcs.messaging socket (server groups, scaling), Kind::Connect.
    std::optional<gsdk::ChannelAddress> messaging;
};

// Bounds on each VM's messaging port: what one guest can make the host do.
struct MessagingLimits {
    unsigned messages_per_sec = 100;       // lines accepted from one guest, sustained
    unsigned burst = 200;                  // ... and in a burst
    std::size_t queue_bytes = 256 * 1024;  // unsent bytes held for one guest
};

// Server groups vmhostd keeps (configured and created at run time together).
inline constexpr std::size_t kMaxServerGroups = 1024;

struct ServerGroupConfig {
    std::string name;
    std::vector<std::string> members;  // VM names
};

struct HostConfig {
    std::string control_socket = "/run/vmhostd/control.sock";
    std::size_t event_log_size = 1000;  // events kept per VM
    std::vector<VmConfig> vms;
    MessagingLimits messaging_limits;
    std::vector<ServerGroupConfig> server_groups;
};

// 1-64 characters of A-Z a-z 0-9 . _ -, not starting with '-' (VMs, server groups).
bool valid_object_name(const std::string& name);

// Returns nullopt and "FILE: key: problem" in *error.
std::optional<HostConfig> load_host_config(const std::string& path, std::string* error);
std::optional<HostConfig> parse_host_config(const std::string& text, const std::string& origin, std::string* error);

}  // namespace vmhost
