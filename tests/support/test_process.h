// Test support: real processes (daemons, examples) started from tests, and a
// scripted JSON-line peer standing in for one end of a host port.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gsdk::test {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    std::string file(const std::string& name) const { return *this / name; }

private:
    std::string path_;
};

// Who a child process runs as: the test runs as root and drops to an
// unprivileged identity in the forked child (setgroups, setgid, setuid), so
// no user or group needs to exist and nothing is left behind.
struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary
};

// A child process in its own process group (posix_spawn: nothing runs in
// the child between fork and exec, so a multi-threaded test cannot deadlock
// it). Every wait has a deadline, and the whole group is SIGKILLed at the
// end, so nothing a test started outlives it.
class Subprocess {
public:
    Subprocess() = default;
    ~Subprocess();  // SIGKILLs the process group and reaps the leader (bounded)
    Subprocess(const Subprocess&) = delete;
    Subprocess& operator=(const Subprocess&) = delete;

    // stdout and stderr go to log_path (appended); stderr to err_path instead
    // when given. Throws if the program cannot be started.
    void start(const std::vector<std::string>& argv, const std::string& log_path,
               const std::vector<std::string>& extra_env = {}, const std::string& err_path = "");
    // The next start() runs the program as this identity.
    void run_as(const Identity& who) { identity_ = who; }
    // The next start() begins the program with these signals blocked and
    // already pending, as if they arrived while it was starting (it must
    // unblock them to see them; a launcher may leave such a mask behind).
    void start_with_pending(std::vector<int> signals) { pending_ = std::move(signals); }
    pid_t pid() const { return pid_; }
    bool running();
    void signal(int signo);
    // Waits for exit; returns the wait status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    // SIGTERM, then SIGKILL to the whole group after the grace time.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
    // SIGKILL to the whole group (grandchildren too) and a bounded reap.
    void kill_group();

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::optional<Identity> identity_;
    std::vector<int> pending_;
};

// Runs body() in a forked child that has become `who`, and returns what it
// wrote to its result pipe (body's return value); "" if it died or overran
// the deadline (then it is killed).
std::string run_in_child_as(const Identity& who, const std::function<std::string()>& body,
                            std::chrono::milliseconds deadline = std::chrono::milliseconds(20000));
// Becomes `who` (supplementary groups, gid, uid); false if the kernel refused.
bool become(const Identity& who);
// How long a SIGKILLed process may take to be reaped before a test gives up on it.
inline constexpr std::chrono::milliseconds kReapDeadline{10000};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text, bool executable = false);
// Polls until the file contains the text.
bool wait_for_text(const std::string& path, const std::string& text, std::chrono::milliseconds timeout);
bool wait_for_path(const std::string& path, std::chrono::milliseconds timeout);
// Runs a command to completion; returns exit status and fills output. At the
// timeout the command's process group is killed and -1 returned.
int run_command(const std::vector<std::string>& argv, std::string* output,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
// CPU time (user+system) of a process in seconds, from /proc.
double cpu_seconds(pid_t pid);

// The host end of a heartbeat port, scripted by a test: connects to a guest
// daemon's --listen socket and exchanges JSON lines.
class JsonLinePeer {
public:
    ~JsonLinePeer();
    bool connect(const std::string& path, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Gives up (and closes) if the peer takes nothing for `timeout`.
    void send_raw(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
    void send(const nlohmann::json& object);  // framed "\n{...}\n"
    // Next complete JSON line; nullopt on timeout or hang-up.
    std::optional<nlohmann::json> receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Skips lines until one has the msg_type.
    std::optional<nlohmann::json> receive_type(const std::string& msg_type,
                                               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    // Raw text of every line received so far.
    const std::vector<std::string>& transcript() const { return transcript_; }
    // Every byte received so far, framing included.
    const std::string& bytes_received() const { return bytes_received_; }
    void close();
    bool connected() const { return fd_ >= 0; }

private:
    int fd_ = -1;
    std::string buffer_;
    std::vector<std::string> transcript_;
    std::string bytes_received_;
};

}  // namespace gsdk::test
