// The guest's CPUs as sysfs shows them under ROOT/devices/system/cpu (ROOT
// is /sys, or a directory of the same shape for tests and simulated VMs):
// cpuN directories, each with an `online` file holding 0 or 1 unless the
// CPU cannot be unplugged (cpu0 on x86 has none). Plain blocking file I/O:
// called from the hotplug worker only, never from the event loop (a write
// to `online` takes the kernel 20-110 ms, and a read waits while another
// CPU is being plugged).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gsdk::scale {

struct CpuState {
    unsigned id = 0;
    bool online = true;
    bool hotpluggable = false;  // has an `online` file
};

struct CpuSnapshot {
    std::vector<CpuState> cpus;  // ascending
    const CpuState* find(unsigned id) const;
    std::vector<unsigned> online() const;
    std::vector<unsigned> offline() const;
};

class CpuTree {
public:
    explicit CpuTree(std::string sysfs_root);

    // Reads every cpuN. 0, or a negative errno and *why. Where the kernel's
    // own `present` and `online` lists exist (a real /sys) and `present`
    // still names the CPUs of the last full read, the two lists are read
    // instead of every cpuN/online: three system calls instead of a
    // directory and one file per CPU, about a millisecond less per read in
    // a TCG guest, paid twice per scale operation. Worker thread only (the
    // last full read is kept here).
    int scan(CpuSnapshot* out, std::string* why) const;
    // Writes "1" or "0" to cpuN/online. 0, or a negative errno and *why
    // naming the file and the kernel's refusal.
    int set_online(unsigned cpu, bool online, std::string* why) const;
    bool has_online_file(unsigned cpu) const;
    // Whether the kernel could ever have this CPU (the `possible` list, e.g.
    // "0-5"); nullopt when the tree has no such file (test trees).
    std::optional<bool> possible(unsigned cpu) const;
    std::string cpu_dir() const { return root_ + "/devices/system/cpu"; }

private:
    std::string online_path(unsigned cpu) const;
    int scan_every_cpu(CpuSnapshot* out, std::string* why) const;
    bool scan_from_lists(CpuSnapshot* out) const;
    std::optional<std::vector<unsigned>> read_list(const char* name) const;
    std::string root_;
    mutable std::optional<CpuSnapshot> last_full_;
};

}  // namespace gsdk::scale
