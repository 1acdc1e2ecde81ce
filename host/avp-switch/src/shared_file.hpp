// A file the switch creates, sizes and maps shared, keeps open (its
// descriptor is what an ivshmem-doorbell QEMU is handed), and removes again
// when the port goes away.
#pragma once

#include <cstdint>
#include <string>

#include "hugepages.hpp"

namespace avpsw {

class SharedFile {
public:
    SharedFile() = default;
    SharedFile(SharedFile&& o) noexcept { *this = std::move(o); }
    SharedFile& operator=(SharedFile&& o) noexcept;
    ~SharedFile();

    // Creates `path` with `size` zero bytes; refuses an existing file unless
    // `replace`. Returns false and sets `error` on failure.
    bool create(const std::string& path, uint64_t size, bool replace, std::string& error);
    // The same on huge pages: the file lives on `fs` (all its pages
    // reserved up front, so a shortage shows here and not as SIGBUS later)
    // and `path` becomes a symbolic link to it.
    bool create_huge(const std::string& path, uint64_t size, bool replace, const Hugetlbfs& fs, std::string& error);
    // The hugetlbfs file behind `path`, or empty on ordinary pages.
    const std::string& huge_file() const { return huge_file_; }

    void* address() const { return addr_; }
    uint64_t size() const { return size_; }
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

private:
    void release();

    bool map(uint64_t size, int extra_flags, std::string& error);

    std::string path_;
    std::string huge_file_;
    void* addr_ = nullptr;
    uint64_t size_ = 0;
    int fd_ = -1;
    bool owned_ = false;
};

}  // namespace avpsw
