#include "offline_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cpu_set_text.h"

namespace gsdk::scale {

namespace {
constexpr std::size_t kMaxStateBytes = 64 * 1024;
}

int save_offline_state(const std::string& path, const std::vector<unsigned>& offline, std::string* why) {
    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
        std::string dir = path.substr(0, slash);
        if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
            int err = errno;
            *why = "cannot create " + dir + ": " + std::strerror(err);
            return -err;
        }
    }
    std::string tmp = path + ".tmp";
    std::string text = scalewire::legacy_set_text(offline) + "\n";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int err = errno;
        *why = "cannot write " + tmp + ": " + std::strerror(err);
        return -err;
    }
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
    if (!err && ::fsync(fd) < 0) err = errno;
    ::close(fd);
    if (!err && ::rename(tmp.c_str(), path.c_str()) < 0) err = errno;
    if (err) {
        ::unlink(tmp.c_str());
        *why = "cannot write " + path + ": " + std::strerror(err);
        return -err;
    }
    return 0;
}

std::optional<std::vector<unsigned>> load_offline_state(const std::string& path, std::string* why) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::string text(kMaxStateBytes + 1, '\0');
    ssize_t n = ::read(fd, text.data(), text.size());
    ::close(fd);
    if (n < 0) {
        *why = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    if (static_cast<std::size_t>(n) > kMaxStateBytes) {
        *why = path + ": larger than " + std::to_string(kMaxStateBytes) + " bytes";
        return std::nullopt;
    }
    text.resize(static_cast<std::size_t>(n));
    std::string problem;
    auto set = scalewire::parse_cpu_set(std::string_view(text), &problem);
    if (!set) *why = path + ": " + problem;
    return set;
}

}  // namespace gsdk::scale
