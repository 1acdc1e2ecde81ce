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
    addr_ = nullptr;
    fd_ = -1;
    owned_ = false;
}

bool SharedFile::create(const std::string& path, uint64_t size, bool replace, std::string& error) {
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
    void* a = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (a == MAP_FAILED) {
        error = path + ": cannot map: " + std::strerror(errno);
        return false;
    }
    addr_ = a;
    size_ = size;
    if (replace) std::memset(addr_, 0, size);
    return true;
}

}  // namespace avpsw
