// A stand-in for guest-heartbeatd in library tests: a real SOCK_SEQPACKET
// listener that speaks heartbeat_ipc.proto, driven step by step by the test.
// Every wait takes a "pump" run between polls, so one thread can drive both
// the daemon end and the client under test.
#pragma once

#include "test_process.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "answer_slot.h"
#include "heartbeat_ipc.pb.h"

namespace ghbtest {

using namespace std::chrono_literals;
using Pump = std::function<void()>;
namespace ipc = gsdk::heartbeat::ipc;

class FakeDaemon {
public:
    explicit FakeDaemon(std::string path);
    ~FakeDaemon();
    FakeDaemon(const FakeDaemon&) = delete;
    FakeDaemon& operator=(const FakeDaemon&) = delete;

    const std::string& path() const { return path_; }
    bool listening() const { return listen_fd_ >= 0; }
    // Closes the listener and every accepted peer, like a daemon that exits.
    void stop();
    bool listen();

    // Returns an accepted peer descriptor, or -1 after the timeout.
    int accept(std::chrono::milliseconds timeout, const Pump& pump = {});
    std::optional<ipc::ClientMessage> receive(int peer, std::chrono::milliseconds timeout, const Pump& pump = {});
    // True if the peer hung up (EOF) before the timeout; messages before it are discarded.
    bool wait_closed(int peer, std::chrono::milliseconds timeout, const Pump& pump = {});
    bool send(int peer, const ipc::DaemonMessage& message);
    bool send_raw(int peer, const std::string& bytes);
    void close_peer(int peer);

    // Accepts one client and answers its Register; returns the peer or -1.
    int accept_registration(bool accept, const std::string& reason = {}, const Pump& pump = {},
                            ipc::Register* seen = nullptr);

    // Accepts one client and refuses its Register with an errno (e.g. EACCES).
    int accept_register_refusal(int error, const std::string& reason, const Pump& pump = {});

    // The same, accepting with an answer slot passed alongside: a sealed
    // memfd like the real daemon's, or (sealed = false) one the client must
    // refuse. *slot is the daemon's mapping of it, valid until stop().
    int accept_registration_with_slot(ipc::AnswerSlot** slot, bool sealed = true, const Pump& pump = {});

    static ipc::DaemonMessage challenge(uint64_t id);
    static ipc::DaemonMessage action(int32_t invocation_id, ipc::Event event, ipc::NotifyType type,
                                     uint32_t timeout_ms);

private:
    // Accepts one client and reads its Register; returns the peer or -1.
    int accept_register_message(const Pump& pump, ipc::Register* seen);

    std::string path_;
    int listen_fd_ = -1;
    std::vector<int> peers_;
    std::vector<void*> slots_;
};

// A private directory under /tmp removed with its content at scope exit.
using gsdk::test::TempDir;

}  // namespace ghbtest
