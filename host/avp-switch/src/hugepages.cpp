#include "hugepages.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <fstream>

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
    // Only the one given, or the system's own mount point: a hugetlbfs that
    // some other program mounted for itself is not ours to fill.
    Hugetlbfs h;
    h.dir = dir.empty() ? kDefaultHugetlbfs : dir;
    if (!is_hugetlbfs(h.dir, h.page_size)) {
        why = h.dir + " is not a mounted hugetlbfs";
        return std::nullopt;
    }
    return h;
}

uint64_t free_huge_bytes(uint64_t page_size) {
    std::string base = "/sys/kernel/mm/hugepages/hugepages-" + std::to_string(page_size / 1024) + "kB/";
    uint64_t free = read_number(base + "free_hugepages"), resv = read_number(base + "resv_hugepages");
    return free > resv ? (free - resv) * page_size : 0;
}

}  // namespace avpsw
