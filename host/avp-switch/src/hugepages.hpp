// Where region files can live on huge pages: a mounted hugetlbfs with
// enough free pages of its size (see docs/decisions/0006-avp-switch-hugepages.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace avpsw {

struct Hugetlbfs {
    std::string dir;
    uint64_t page_size = 0;
};

// `dir` when given (it must be a hugetlbfs), else the first hugetlbfs
// mount; nullopt and `why` when there is none.
std::optional<Hugetlbfs> find_hugetlbfs(const std::string& dir, std::string& why);
// Bytes of free, unreserved huge pages of `page_size` (system-wide pool).
uint64_t free_huge_bytes(uint64_t page_size);

}  // namespace avpsw
