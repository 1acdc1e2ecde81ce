// vmhostctl's connection to vmhostd: one request, one reply, over the
// control SOCK_SEQPACKET socket.
#pragma once

#include <csignal>
#include <optional>
#include <string>

#include "vmhost_control.pb.h"

namespace vmhostctl {

namespace control = gsdk::vmhost::control;

class ControlClient {
public:
    ~ControlClient();
    // Returns false and a message naming the cause (e.g. vmhostd not running).
    bool connect(const std::string& path, std::string* error);
    // Sends `request` and waits for the reply with the same request_id;
    // timeout_ms < 0 waits forever.
    std::optional<control::Reply> call(control::Request request, int timeout_ms, std::string* error);
    // A flag a signal handler sets: a call in progress then returns at once
    // (no reply, error "interrupted") instead of waiting out its timeout.
    void set_interrupt_flag(const volatile sig_atomic_t* flag) { interrupted_ = flag; }

private:
    bool interrupted() const { return interrupted_ && *interrupted_; }

    const volatile sig_atomic_t* interrupted_ = nullptr;
    int fd_ = -1;
    std::string path_;
    uint64_t next_request_ = 1;
};

}  // namespace vmhostctl
