// An application speaking heartbeat_ipc.proto by hand over a real socket:
// what a hostile local program can send, without the library's manners.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "heartbeat_ipc.pb.h"

namespace gsdk::test {

namespace ipc = gsdk::heartbeat::ipc;

class RawApplication {
public:
    // Connects at once (blocking connect); see connect_error().
    explicit RawApplication(const std::string& socket_path);
    ~RawApplication();
    RawApplication(const RawApplication&) = delete;
    RawApplication& operator=(const RawApplication&) = delete;

    // 0, or the errno connect() failed with.
    int connect_error() const { return error_; }
    bool send_register(const std::string& name, uint32_t interval_ms = 1000, ipc::Action action = ipc::ACTION_REBOOT);
    bool send_bytes(const std::string& bytes);
    // The daemon's answer to the Register (challenges are skipped).
    std::optional<ipc::RegisterResult> register_result(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Registers and waits for the answer.
    std::optional<ipc::RegisterResult> register_as(const std::string& name, ipc::Action action = ipc::ACTION_REBOOT);
    // True once the daemon has closed the connection (EOF) within the timeout.
    bool closed_by_daemon(std::chrono::milliseconds timeout);
    // Closes without a Deregister, like a process killed with SIGKILL.
    void close();

private:
    int fd_ = -1;
    int error_ = 0;
};

}  // namespace gsdk::test
