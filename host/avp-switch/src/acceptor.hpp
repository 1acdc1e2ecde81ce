// Accepts on a listening UNIX socket from the event loop, surviving
// descriptor exhaustion: on EMFILE/ENFILE a reserve descriptor is given up
// to accept and close the waiting client (it sees EOF instead of hanging),
// and accepting pauses briefly, so a full table never turns into a spin.
#pragma once

#include <gsdk/event_loop.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <gsdk/log.h>

namespace avpsw {

class Acceptor {
public:
    // `accepted` gets each new non-blocking, close-on-exec descriptor.
    Acceptor(gsdk::EventLoop& loop, int listen_fd, std::string what, std::function<void(int)> accepted);
    ~Acceptor();
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;

    uint64_t exhausted() const { return exhausted_; }  // accepts that found no free descriptor

private:
    void ready();

    int listen_fd_;
    int reserve_fd_ = -1;
    std::string what_;
    std::function<void(int)> accepted_;
    std::unique_ptr<gsdk::FdWatch> watch_;
    gsdk::Timer resume_;
    gsdk::LogRateLimiter log_;
    uint64_t exhausted_ = 0;
};

}  // namespace avpsw
