#include "cpu_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "scale_layer.h"

namespace gsdk::scale {

const CpuState* CpuSnapshot::find(unsigned id) const {
    auto it = std::lower_bound(cpus.begin(), cpus.end(), id, [](const CpuState& c, unsigned v) { return c.id < v; });
    return it != cpus.end() && it->id == id ? &*it : nullptr;
}

std::vector<unsigned> CpuSnapshot::online() const {
    std::vector<unsigned> out;
    for (const auto& c : cpus)
        if (c.online) out.push_back(c.id);
    return out;
}

std::vector<unsigned> CpuSnapshot::offline() const {
    std::vector<unsigned> out;
    for (const auto& c : cpus)
        if (!c.online) out.push_back(c.id);
    return out;
}

CpuTree::CpuTree(std::string sysfs_root) : root_(std::move(sysfs_root)) {}

std::string CpuTree::online_path(unsigned cpu) const { return cpu_dir() + "/cpu" + std::to_string(cpu) + "/online"; }

bool CpuTree::has_online_file(unsigned cpu) const { return ::access(online_path(cpu).c_str(), F_OK) == 0; }

namespace {

// A kernel CPU list ("0-3,5,7-8\n"); nullopt when it does not parse.
std::optional<std::vector<unsigned>> parse_cpu_list(const char* p) {
    std::vector<unsigned> out;
    while (*p && *p != '\n') {
        char* end = nullptr;
        unsigned long first = std::strtoul(p, &end, 10);
        if (end == p) return std::nullopt;
        unsigned long last = first;
        p = end;
        if (*p == '-') {
            last = std::strtoul(p + 1, &end, 10);
            if (end == p + 1) return std::nullopt;
            p = end;
        }
        if (last < first || last >= scalewire::kMaxCpus) return std::nullopt;
        for (unsigned long id = first; id <= last; id++) out.push_back(static_cast<unsigned>(id));
        if (*p == ',')
            ++p;
        else if (*p && *p != '\n')
            return std::nullopt;
    }
    return out;
}

}  // namespace

std::optional<std::vector<unsigned>> CpuTree::read_list(const char* name) const {
    int fd = ::open((cpu_dir() + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char buf[4096] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    // A list that fills the buffer may go on: a cut one could parse as
    // another list, so it counts as unreadable.
    if (n <= 0 || n == static_cast<ssize_t>(sizeof buf - 1)) return std::nullopt;
    return parse_cpu_list(buf);
}

std::optional<bool> CpuTree::possible(unsigned cpu) const {
    auto list = read_list("possible");
    if (!list) return std::nullopt;
    return std::find(list->begin(), list->end(), cpu) != list->end();
}

bool CpuTree::scan_from_lists(CpuSnapshot* out) const {
    if (!last_full_) return false;
    auto present = read_list("present");
    if (!present || present->size() != last_full_->cpus.size()) return false;
    for (size_t i = 0; i < present->size(); i++)
        if ((*present)[i] != last_full_->cpus[i].id) return false;
    auto online = read_list("online");
    if (!online) return false;
    *out = *last_full_;
    for (auto& c : out->cpus)
        if (c.hotpluggable) c.online = std::binary_search(online->begin(), online->end(), c.id);
    return true;
}

int CpuTree::scan(CpuSnapshot* out, std::string* why) const {
    if (scan_from_lists(out)) return 0;
    int rc = scan_every_cpu(out, why);
    if (rc == 0) last_full_ = *out;
    return rc;
}

int CpuTree::scan_every_cpu(CpuSnapshot* out, std::string* why) const {
    out->cpus.clear();
    DIR* dir = ::opendir(cpu_dir().c_str());
    if (!dir) {
        int err = errno;
        *why = "cannot read " + cpu_dir() + ": " + std::strerror(err);
        return -err;
    }
    while (dirent* e = ::readdir(dir)) {
        const char* name = e->d_name;
        if (std::strncmp(name, "cpu", 3) != 0 || name[3] < '0' || name[3] > '9' || std::strlen(name) > 8) continue;
        char* end = nullptr;
        unsigned long id = std::strtoul(name + 3, &end, 10);
        if (*end != '\0' || id >= scalewire::kMaxCpus) continue;
        CpuState cpu;
        cpu.id = static_cast<unsigned>(id);
        int fd = ::open(online_path(cpu.id).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buf[8] = {};
            ssize_t n = ::read(fd, buf, sizeof buf - 1);
            ::close(fd);
            // Anything but 0 or 1 cannot be trusted: leave that CPU alone.
            cpu.hotpluggable = n > 0 && (buf[0] == '0' || buf[0] == '1');
            cpu.online = !cpu.hotpluggable || buf[0] == '1';
        }
        out->cpus.push_back(cpu);
    }
    ::closedir(dir);
    std::sort(out->cpus.begin(), out->cpus.end(), [](const CpuState& a, const CpuState& b) { return a.id < b.id; });
    if (out->cpus.empty()) {
        *why = "no cpuN directory in " + cpu_dir();
        return -ENOENT;
    }
    return 0;
}

int CpuTree::set_online(unsigned cpu, bool online, std::string* why) const {
    std::string path = online_path(cpu);
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        *why = "sysfs write refused: cannot open " + path + ": " + std::strerror(err);
        return -err;
    }
    const char* value = online ? "1" : "0";
    ssize_t n;
    do {
        n = ::write(fd, value, 1);
    } while (n < 0 && errno == EINTR);
    int err = n == 1 ? 0 : (n < 0 ? errno : EIO);
    ::close(fd);
    if (err) {
        *why = "sysfs write refused: writing " + std::string(value) + " to " + path + ": " + std::strerror(err);
        return -err;
    }
    return 0;
}

}  // namespace gsdk::scale
