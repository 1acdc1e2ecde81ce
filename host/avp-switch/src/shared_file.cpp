#include "shared_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace avpsw {

SharedFile& SharedFile::operator=(SharedFile&& o) noexcept {
    if (this != &o) {
        release();
        path_ = std::move(o.path_);
        huge_file_ = std::move(o.huge_file_);
        addr_ = o.addr_;
        size_ = o.size_;
        fd_ = o.fd_;
        owned_ = o.owned_;
        o.addr_ = nullptr;
        o.fd_ = -1;
        o.owned_ = false;
    }
    return *this;
}

SharedFile::~SharedFile() { release(); }

void SharedFile::release() {
    if (addr_) ::munmap(addr_, size_);
    if (fd_ >= 0) ::close(fd_);
    if (owned_ && !path_.empty()) ::unlink(path_.c_str());
    if (owned_ && !huge_file_.empty()) ::unlink(huge_file_.c_str());
    addr_ = nullptr;
    fd_ = -1;
    owned_ = false;
}

bool SharedFile::create(const std::string& path, uint64_t size, bool replace, std::string& error) {
    struct stat link {};
    // A link left by a huge-page run is replaced by the file itself.
    if (replace && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) ::unlink(path.c_str());
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (replace ? O_TRUNC : O_EXCL);
    int fd = ::open(path.c_str(), flags, 0660);
    if (fd < 0) {
        error = path + ": " + std::strerror(errno);
        if (errno == EEXIST) error += " (another switch may own it; remove it or set replace=1)";
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        ::close(fd);
        error = path + ": not a regular file";
        return false;
    }
    path_ = path;
    owned_ = true;
    fd_ = fd;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        error = path + ": cannot size to " + std::to_string(size) + " bytes: " + std::strerror(errno);
        return false;  // release() unlinks
    }
    if (!map(size, 0, error)) return false;
    if (replace) std::memset(addr_, 0, size);
    return true;
}

bool SharedFile::map(uint64_t size, int extra_flags, std::string& error) {
    void* a = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | extra_flags, fd_, 0);
    if (a == MAP_FAILED) {
        error = path_ + ": cannot map: " + std::strerror(errno);
        return false;
    }
    addr_ = a;
    size_ = size;
    return true;
}

bool SharedFile::create_huge(const std::string& path, uint64_t size, bool replace, const Hugetlbfs& fs,
                             std::string& error) {
    size = (size + fs.page_size - 1) / fs.page_size * fs.page_size;
    uint64_t avail = free_huge_bytes(fs.page_size);
    if (avail < size) {
        error = "needs " + std::to_string(size >> 20) + " MiB of " + std::to_string(fs.page_size >> 10) +
                " kB huge pages, " + std::to_string(avail >> 20) + " MiB free";
        return false;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!replace) {
            error = path + ": " + std::strerror(EEXIST) + " (another switch may own it; remove it or set replace=1)";
            return false;
        }
        ::unlink(path.c_str());
    }
    auto slash = path.rfind('/');
    std::string file = fs.dir + "/avp-switch." + path.substr(slash + 1);
    if (replace) ::unlink(file.c_str());
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660);
    if (fd < 0) {
        error = file + ": " + std::strerror(errno);
        return false;
    }
    fd_ = fd;
    huge_file_ = file;
    owned_ = true;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fallocate(fd, 0, 0, static_cast<off_t>(size)) != 0) {
        error = file + ": cannot reserve " + std::to_string(size >> 20) + " MiB: " + std::strerror(errno);
        return false;  // release() removes the file
    }
    if (::symlink(file.c_str(), path.c_str()) != 0) {
        error = path + ": cannot link to " + file + ": " + std::strerror(errno);
        return false;
    }
    path_ = path;
    return map(size, MAP_POPULATE, error);  // hugetlbfs pages come zeroed
}

}  // namespace avpsw
