#include "shared_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace bip = boost::interprocess;

namespace avpsw {

SharedFile::~SharedFile() {
    if (owned_ && !path_.empty()) {
        region_ = bip::mapped_region();
        ::unlink(path_.c_str());
    }
}

bool SharedFile::create(const std::string& path, uint64_t size, bool replace, std::string& error) {
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL);
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
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        error = path + ": cannot size to " + std::to_string(size) + " bytes: " + std::strerror(errno);
        ::close(fd);
        ::unlink(path.c_str());
        return false;
    }
    ::close(fd);
    path_ = path;
    owned_ = true;
    try {
        bip::file_mapping fm(path.c_str(), bip::read_write);
        region_ = bip::mapped_region(fm, bip::read_write, 0, size);
    } catch (const std::exception& e) {
        error = path + ": cannot map: " + e.what();
        return false;  // destructor unlinks
    }
    if (replace) std::memset(region_.get_address(), 0, size);
    return true;
}

}  // namespace avpsw
