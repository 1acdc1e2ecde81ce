#include "switch_process.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef AVP_SWITCH_BIN
#error "AVP_SWITCH_BIN must name the avp-switch executable"
#endif

namespace avptest {

namespace {

int spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err,
          const std::vector<std::string>& wrapper = {}) {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    std::vector<std::string> copy = wrapper;
    copy.push_back(AVP_SWITCH_BIN);
    copy.insert(copy.end(), args.begin(), args.end());
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

nlohmann::json call(const std::string& socket, const std::string& line) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, socket.c_str(), sizeof(a.sun_path) - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return {{"ok", false}, {"error", "connect failed"}};
    }
    std::string s = line + "\n";
    (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    std::string reply;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof(buf))) > 0) reply.append(buf, static_cast<size_t>(n));
    ::close(fd);
    try {
        return nlohmann::json::parse(reply);
    } catch (...) {
        return {{"ok", false}, {"error", "unparsable reply: " + reply}};
    }
}

}  // namespace

std::string shm_path(const std::string& tag) { return "/dev/shm/avpsw-" + std::to_string(::getpid()) + "-" + tag; }

std::string tmp_path(const std::string& tag) { return "/tmp/avpsw-" + std::to_string(::getpid()) + "-" + tag; }

RunResult run_switch_cli(const std::vector<std::string>& args, int timeout_ms) {
    static int n = 0;
    std::string out = tmp_path("cli" + std::to_string(n) + ".out");
    std::string err = tmp_path("cli" + std::to_string(n++) + ".err");
    int pid = spawn(args, out, err);
    RunResult r;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    for (;;) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() > end) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            r.exit_code = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    r.out = slurp(out);
    r.err = slurp(err);
    ::unlink(out.c_str());
    ::unlink(err.c_str());
    return r;
}

SwitchProcess::SwitchProcess(std::vector<std::string> args, const std::vector<std::string>& wrapper) {
    static int n = 0;
    socket_ = tmp_path("ctl" + std::to_string(n) + ".sock");
    log_path_ = tmp_path("switch" + std::to_string(n++) + ".log");
    args.insert(args.begin(), "run");
    args.push_back("--socket");
    args.push_back(socket_);
    pid_ = spawn(args, "/dev/null", log_path_, wrapper);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
        if (!running()) return;
        if (call(socket_, "ports").value("ok", false)) {
            ready_ = true;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

SwitchProcess::~SwitchProcess() {
    if (pid_ > 0 && stop() < 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    ::unlink(log_path_.c_str());
}

const std::string& SwitchProcess::log() {
    log_ = slurp(log_path_);
    return log_;
}

bool SwitchProcess::running() {
    if (pid_ <= 0) return false;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

nlohmann::json SwitchProcess::ctl(const std::string& line) { return call(socket_, line); }

nlohmann::json SwitchProcess::port(const std::string& name) {
    auto j = ctl("stats " + name);
    if (!j.value("ok", false) || j["ports"].empty()) return nlohmann::json::object();
    return j["ports"][0];
}

int SwitchProcess::stop() {
    if (pid_ <= 0) return -1;
    call(socket_, "shutdown");
    int status = 0;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
}

}  // namespace avptest
