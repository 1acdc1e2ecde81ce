#include "acceptor.hpp"

#include <event2/event.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace avpsw {

namespace {
constexpr int kAcceptsPerWake = 16;  // others wait for the next turn of the loop
constexpr gsdk::Millis kPauseWhenExhausted{100};
}  // namespace

Acceptor::Acceptor(gsdk::EventLoop& loop, int listen_fd, std::string what, std::function<void(int)> accepted)
    : listen_fd_(listen_fd), what_(std::move(what)), accepted_(std::move(accepted)),
      resume_(loop, [this] { watch_->enable(); }) {
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    watch_ = std::make_unique<gsdk::FdWatch>(loop, listen_fd_, EV_READ, [this](short) { ready(); });
    watch_->enable();
}

Acceptor::~Acceptor() {
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

void Acceptor::ready() {
    for (int i = 0; i < kAcceptsPerWake; i++) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            accepted_(fd);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EMFILE || errno == ENFILE) {
            exhausted_++;
            int err = errno;
            if (reserve_fd_ >= 0) {
                ::close(reserve_fd_);
                int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0) ::close(c);
                reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            }
            gsdk::ratelimited_logf(log_, "", gsdk::LogLevel::Warning,
                                   "%s: cannot accept a client: %s; it was closed, accepting pauses %lld ms",
                                   what_.c_str(), std::strerror(err),
                                   static_cast<long long>(kPauseWhenExhausted.count()));
        } else {
            gsdk::ratelimited_logf(log_, "", gsdk::LogLevel::Warning, "%s: accept failed: %s; accepting pauses %lld ms",
                                   what_.c_str(), std::strerror(errno),
                                   static_cast<long long>(kPauseWhenExhausted.count()));
        }
        watch_->disable();
        resume_.start(kPauseWhenExhausted);
        return;
    }
}

}  // namespace avpsw
