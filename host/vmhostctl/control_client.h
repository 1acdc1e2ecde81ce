// vmhostctl's connection to vmhostd: one request, one reply, over the
// control SOCK_SEQPACKET socket.
#pragma once

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

private:
    int fd_ = -1;
    std::string path_;
    uint64_t next_request_ = 1;
};

}  // namespace vmhostctl
