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
};

struct HostConfig {
    std::string control_socket = "/run/vmhostd/control.sock";
    std::size_t event_log_size = 1000;  // events kept per VM
    std::vector<VmConfig> vms;
};

// Returns nullopt and "FILE: key: problem" in *error.
std::optional<HostConfig> load_host_config(const std::string& path, std::string* error);
std::optional<HostConfig> parse_host_config(const std::string& text, const std::string& origin, std::string* error);

}  // namespace vmhost
