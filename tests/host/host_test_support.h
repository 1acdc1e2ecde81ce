// Test fixtures for vmhostd: the real daemon as a child process, vmhostctl
// runs, and a fake guest that plays a VM's cgcs.heartbeat socket with the
// shared wire code (heartbeat_host_wire.h).
#pragma once

#include <sys/types.h>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gsdk/json_line.h"
#include "heartbeat_host_wire.h"
#include "test_process.h"

namespace hosttest {

namespace hb = gsdk::hbwire;
using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// Generous: the machine is shared and the ASan build is slow.
inline constexpr Millis kPatience = 15s;

using gsdk::test::read_file;
using gsdk::test::TempDir;
using gsdk::test::write_file;
// Polls until pred() holds; false on timeout.
bool eventually(const std::function<bool()>& pred, Millis timeout = kPatience);

struct CommandResult {
    int exit_code = -1;  // -1: killed by a signal
    std::string out;
    std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv, Millis timeout = 60s);

std::string vmhostd_path();
std::string vmhostctl_path();

// The socket plumbing of the fake guests: a listening UNIX stream socket at
// `path` (a stale one replaced; throws naming `who` on failure), one accept
// within a timeout (-1 if none), and a send of every byte (until an error).
int listen_unix_stream(const std::string& path, const std::string& who);
int accept_within(int listen_fd, Millis timeout);
void send_all(int fd, const std::string& bytes);

// An executor script that appends "VM ACTION" to a marker file.
std::string marker_script(const TempDir& dir, const std::string& marker);

class VmhostdProcess {
public:
    VmhostdProcess() = default;
    ~VmhostdProcess();
    // Starts vmhostd with this config file; waits for the control socket.
    bool start(const std::string& config_path, const std::string& control_socket, const std::string& log_path);
    // SIGTERM and wait; returns the exit status (-1 if killed by a signal).
    int stop();
    bool running();
    pid_t pid() const;
    std::string log() const { return read_file(log_path_); }

private:
    std::unique_ptr<gsdk::test::Subprocess> process_;
    std::string log_path_;
};

class FakeGuest {
public:
    explicit FakeGuest(std::string path);
    ~FakeGuest();
    // Listens (again) on the path; vmhostd connects to it.
    void listen();
    bool accept(Millis timeout = kPatience);
    void disconnect();  // closes the connection, keeps listening
    void close_listener();
    bool connected() const { return conn_ >= 0; }

    void send(hb::Body body);
    void send_raw(const std::string& bytes);
    // Next decoded message from vmhostd (held ones first); nullopt on timeout or disconnect.
    std::optional<hb::Message> next(Millis timeout = kPatience);
    // The first message satisfying `want`; challenges met on the way are
    // answered healthy when auto_answer is on (the guest stays alive), other
    // messages are held for later calls.
    std::optional<hb::Message> wait_for(const std::function<bool(const hb::Message&)>& want,
                                        Millis timeout = kPatience);

    // Sends init; returns the init_ack (checked to echo the invocation id).
    std::optional<hb::InitAck> init(int64_t interval_ms, hb::CorrectiveAction action = hb::CorrectiveAction::Reboot,
                                    int64_t vote_secs = 2, int64_t notice_secs = 2, int64_t restart_secs = 5);
    std::optional<hb::Challenge> next_challenge(Millis timeout = kPatience);
    void answer(const hb::Challenge& c, bool healthy = true, hb::CorrectiveAction action = hb::CorrectiveAction::Reboot,
                const std::string& log_msg = "", std::optional<std::vector<hb::ApplicationStatus>> apps = std::nullopt);
    void respond(const hb::ActionNotify& n, hb::VoteResult result, const std::string& log_msg = "");

    bool auto_answer = true;
    const hb::Init& last_init() const { return init_; }

private:
    bool fill(Millis timeout);
    std::optional<hb::Message> read_wire(Millis timeout);

    std::string path_;
    int listen_fd_ = -1;
    int conn_ = -1;
    int64_t sequence_ = 0;
    int64_t invocation_ = 100;
    hb::Init init_;
    std::string buffer_;
    std::vector<std::string> lines_;
    std::deque<hb::Message> held_;
    gsdk::LineSplitter splitter_;
};

template <typename T>
std::function<bool(const hb::Message&)> is() {
    return [](const hb::Message& m) { return std::holds_alternative<T>(m.body); };
}

}  // namespace hosttest
