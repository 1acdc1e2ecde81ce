#include "hugepages.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <fstream>
#include <sstream>

namespace avpsw {

namespace {

uint64_t read_number(const std::string& path) {
    std::ifstream in(path);
    uint64_t v = 0;
    in >> v;
    return in ? v : 0;
}

bool is_hugetlbfs(const std::string& dir, uint64_t& page_size) {
    struct statfs st {};
    if (::statfs(dir.c_str(), &st) != 0 || st.f_type != HUGETLBFS_MAGIC) return false;
    page_size = static_cast<uint64_t>(st.f_bsize);
    return page_size > 0;
}

}  // namespace

std::optional<Hugetlbfs> find_hugetlbfs(const std::string& dir, std::string& why) {
    Hugetlbfs h;
    if (!dir.empty()) {
        if (!is_hugetlbfs(dir, h.page_size)) {
            why = dir + " is not a mounted hugetlbfs";
            return std::nullopt;
        }
        h.dir = dir;
        return h;
    }
    std::ifstream mounts("/proc/mounts");
    for (std::string line; std::getline(mounts, line);) {
        std::istringstream f(line);
        std::string dev, mnt, type;
        f >> dev >> mnt >> type;
        if (type == "hugetlbfs" && is_hugetlbfs(mnt, h.page_size)) {
            h.dir = mnt;
            return h;
        }
    }
    why = "no hugetlbfs is mounted";
    return std::nullopt;
}

uint64_t free_huge_bytes(uint64_t page_size) {
    std::string base = "/sys/kernel/mm/hugepages/hugepages-" + std::to_string(page_size / 1024) + "kB/";
    uint64_t free = read_number(base + "free_hugepages"), resv = read_number(base + "resv_hugepages");
    return free > resv ? (free - resv) * page_size : 0;
}

}  // namespace avpsw
