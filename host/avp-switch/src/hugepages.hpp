// Where region files can live on huge pages: a mounted hugetlbfs with
// enough free pages of its size (see docs/decisions/0009-avp-switch-hugepages.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace avpsw {

struct Hugetlbfs {
    std::string dir;
    uint64_t page_size = 0;
};

// Where systemd (dev-hugepages.mount) puts the default hugetlbfs.
inline constexpr const char* kDefaultHugetlbfs = "/dev/hugepages";

// `dir` when given, else kDefaultHugetlbfs, if it is a mounted hugetlbfs;
// nullopt and `why` when not.
std::optional<Hugetlbfs> find_hugetlbfs(const std::string& dir, std::string& why);
// Bytes of free, unreserved huge pages of `page_size` (system-wide pool).
uint64_t free_huge_bytes(uint64_t page_size);

}  // namespace avpsw
