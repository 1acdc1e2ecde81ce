// What a user asks for: ports, their profile and sizes, and how they connect.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace avpsw {

enum class Profile { Legacy, Ivshmem, File };
// Region files on huge pages: where possible (auto), required (on), never (off).
enum class HugePages { Auto, On, Off };

const char* profile_name(Profile p);

struct PortConfig {
    std::string name;
    Profile profile = Profile::File;
    std::string path;  // region file, or the fake sysfs root for legacy
    std::array<uint8_t, 6> mac{};
    bool mac_set = false;
    uint32_t buffers = 4096;    // host buffers in this port's pool
    uint32_t mbuf_size = 1984;  // data room; 64 + room rounds to a power of two
    uint32_t fifo_len = 1024;   // slots per data FIFO (power of two)
    uint32_t queues = 4;        // max tx and rx queues offered
    int slot = -1;              // legacy: PCI device number (00:NN.0)
    int uio = -1;               // legacy: uio minor used for uio/uioN
    bool replace = false;       // overwrite an existing region file / device dir
    std::string doorbell;       // ivshmem: UNIX socket where QEMU's ivshmem-doorbell connects
    HugePages hugepages = HugePages::Auto;
    std::string hugetlbfs;  // the switch's --hugetlbfs (empty: /dev/hugepages)
};

// A TAP device towards the host's network stack, in the learning domain.
struct TapConfig {
    std::string name;    // the switch's name for it (ctl, stats)
    std::string ifname;  // the kernel interface; default: name
    uint32_t mtu = 1500;
};

struct SwitchConfig {
    std::vector<PortConfig> ports;
    std::vector<TapConfig> taps;
    std::vector<std::pair<std::string, std::string>> pairs;  // A<->B; A==B is loopback
    std::string socket_path = "/run/avp-switch.sock";
    std::string hugetlbfs;   // mount for huge-page regions (empty: /dev/hugepages)
    bool busy_poll = false;  // spin even when idle (bench), else back off
    uint32_t migrate_timeout_ms = 2000;
    uint32_t bench_seconds = 0;  // >0: print forwarding figures every N s
};

// Parses "NAME,profile=file,path=/dev/shm/x,mac=..,buffers=..": error text or nullopt.
std::optional<std::string> parse_port_spec(const std::string& spec, PortConfig& out);
// Parses "NAME,ifname=IF,mtu=N".
std::optional<std::string> parse_tap_spec(const std::string& spec, TapConfig& out);
// Reads a JSON config file (see docs/avp-switch.md).
std::optional<std::string> load_config_file(const std::string& path, SwitchConfig& out);
// Cross-checks names, pairs and paths once everything is parsed.
std::optional<std::string> validate_config(SwitchConfig& cfg);

}  // namespace avpsw
