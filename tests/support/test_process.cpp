#include "test_process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "gsdk/unix_socket.h"

extern char** environ;

namespace gsdk::test {

using namespace std::chrono;

TempDir::TempDir() {
    char tmpl[] = "/tmp/gsdk-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    if (std::getenv("GSDK_KEEP_TEST_DIRS")) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

Subprocess::~Subprocess() { kill_group(); }

void Subprocess::start(const std::vector<std::string>& argv_in, const std::string& log_path,
                       const std::vector<std::string>& extra_env, const std::string& err_path) {
    // Another identity: util-linux's setpriv changes it between fork and exec,
    // so the spawn stays a posix_spawn.
    std::vector<std::string> argv;
    if (identity_) {
        std::string groups;
        for (gid_t g : identity_->groups) groups += (groups.empty() ? "" : ",") + std::to_string(g);
        argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(identity_->uid),
                "--regid=" + std::to_string(identity_->gid),
                groups.empty() ? std::string("--clear-groups") : "--groups=" + groups, "--"};
    }
    argv.insert(argv.end(), argv_in.begin(), argv_in.end());
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_store(extra_env);
    std::vector<char*> env;
    for (char** e = environ; *e; ++e) env.push_back(*e);
    for (auto& e : env_store) env.push_back(e.data());
    env.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err_path.empty())
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
    else
        posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    // Its own process group, so that kill_group() reaches what it starts too;
    // default signal handling and an empty mask (but what start_with_pending
    // names) whatever the test thread has.
    sigset_t mask, all;
    sigemptyset(&mask);
    for (int signo : pending_) sigaddset(&mask, signo);
    sigfillset(&all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    status_.reset();
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    pid_ = pid;
    // The child has called exec by now (posix_spawn returns after it) with
    // these blocked: they stay pending into the program.
    for (int signo : pending_) ::kill(pid_, signo);
    pending_.clear();
}

bool Subprocess::running() {
    if (pid_ <= 0 || status_) return false;
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        status_ = st;
        return false;
    }
    return true;
}

void Subprocess::signal(int signo) {
    if (running()) ::kill(pid_, signo);
}

std::optional<int> Subprocess::wait(milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    while (running()) {
        if (steady_clock::now() > end) return std::nullopt;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return status_;
}

void Subprocess::stop(milliseconds grace) {
    if (!running()) {
        kill_group();
        return;
    }
    ::kill(pid_, SIGTERM);
    if (!wait(grace)) kill_group();
}

void Subprocess::kill_group() {
    if (pid_ <= 0) return;
    // The group outlives its leader while anything in it runs: kill it
    // even if the leader has exited already.
    ::kill(-pid_, SIGKILL);
    if (!status_ && !wait(kReapDeadline))
        std::fprintf(stderr, "test_process: pid %d not reaped %lld ms after SIGKILL\n", static_cast<int>(pid_),
                     static_cast<long long>(kReapDeadline.count()));
}

bool become(const Identity& who) {
    return ::setgroups(who.groups.size(), who.groups.data()) == 0 && ::setgid(who.gid) == 0 && ::setuid(who.uid) == 0;
}

std::string run_in_child_as(const Identity& who, const std::function<std::string()>& body, milliseconds deadline) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return "";
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return "";
    }
    if (pid == 0) {
        ::close(fds[0]);
        std::string out = become(who) ? body() : std::string("cannot become the test identity");
        std::size_t off = 0;
        while (off < out.size()) {
            ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
            if (n <= 0) break;
            off += n;
        }
        _exit(0);  // no atexit handlers or gtest teardown in the child
    }
    ::close(fds[1]);
    std::string out;
    auto end = steady_clock::now() + deadline;
    for (;;) {
        auto left = duration_cast<milliseconds>(end - steady_clock::now()).count();
        if (left <= 0) {
            ::kill(pid, SIGKILL);
            out.clear();
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, n);
    }
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& text, bool executable) {
    {
        std::ofstream out(path);
        out << text;
    }
    if (executable) ::chmod(path.c_str(), 0755);
}

bool wait_for_text(const std::string& path, const std::string& text, milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    while (read_file(path).find(text) == std::string::npos) {
        if (steady_clock::now() > end) return false;
        std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
}

bool wait_for_path(const std::string& path, milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    struct stat st;
    while (::stat(path.c_str(), &st) != 0) {
        if (steady_clock::now() > end) return false;
        std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
}

int run_command(const std::vector<std::string>& argv, std::string* output, milliseconds timeout) {
    char tmpl[] = "/tmp/gsdk-cmd-XXXXXX";
    int fd = mkstemp(tmpl);
    ::close(fd);
    Subprocess p;
    p.start(argv, tmpl);
    auto st = p.wait(timeout);
    p.kill_group();  // on a timeout, and whatever it left running
    if (output) *output = read_file(tmpl);
    ::unlink(tmpl);
    if (!st) return -1;
    return WIFEXITED(*st) ? WEXITSTATUS(*st) : 128 + WTERMSIG(*st);
}

double cpu_seconds(pid_t pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return -1;
    std::istringstream in(stat.substr(close_paren + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) stime = std::stol(field);
    }
    return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

JsonLinePeer::~JsonLinePeer() { close(); }

bool JsonLinePeer::connect(const std::string& path, milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    for (;;) {
        int fd = unix_stream_connect(path);
        if (fd >= 0) {
            fd_ = fd;
            return true;
        }
        if (steady_clock::now() > end) return false;
        std::this_thread::sleep_for(milliseconds(10));
    }
}

void JsonLinePeer::send_raw(const std::string& bytes, milliseconds timeout) {
    std::size_t off = 0;
    auto end = steady_clock::now() + timeout;
    while (off < bytes.size() && fd_ >= 0) {
        ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += n;
            end = steady_clock::now() + timeout;  // the deadline is for a peer that takes nothing
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (steady_clock::now() > end) {
                close();
                return;
            }
            pollfd p{fd_, POLLOUT, 0};
            ::poll(&p, 1, 100);
            continue;
        }
        return;
    }
}

void JsonLinePeer::send(const nlohmann::json& object) { send_raw("\n" + object.dump() + "\n"); }

std::optional<nlohmann::json> JsonLinePeer::receive(milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    for (;;) {
        std::size_t nl;
        while ((nl = buffer_.find('\n')) != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            if (line.empty()) continue;
            transcript_.push_back(line);
            auto j = nlohmann::json::parse(line, nullptr, false);
            if (!j.is_discarded()) return j;
        }
        if (fd_ < 0) return std::nullopt;
        auto left = duration_cast<milliseconds>(end - steady_clock::now()).count();
        if (left <= 0) return std::nullopt;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            close();
            continue;
        }
        buffer_.append(buf, n);
        bytes_received_.append(buf, n);
    }
}

std::optional<nlohmann::json> JsonLinePeer::receive_type(const std::string& msg_type, milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    for (;;) {
        auto left = duration_cast<milliseconds>(end - steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto j = receive(left);
        if (!j) return std::nullopt;
        if (j->value("msg_type", "") == msg_type) return j;
    }
}

void JsonLinePeer::close() {
    if (fd_ >= 0) {
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
    }
    fd_ = -1;
}

}  // namespace gsdk::test
