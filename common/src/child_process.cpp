#include "gsdk/child_process.h"

#include <event2/event.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "gsdk/log.h"

extern char** environ;

namespace gsdk {

namespace {
constexpr std::size_t kMaxCapturedOutput = 1024;
}

struct ChildProcesses::Child {
    pid_t pid = -1;
    int out_fd = -1;
    ExitFn on_exit;
    ChildExit result;
    std::unique_ptr<FdWatch> output_watch;
    std::unique_ptr<Timer> deadline;
    ~Child() {
        output_watch.reset();
        if (out_fd >= 0) ::close(out_fd);
    }
};

ChildProcesses::ChildProcesses(EventLoop& loop) : loop_(loop), sigchld_(loop, SIGCHLD, [this] { reap(); }) {}

ChildProcesses::~ChildProcesses() {
    for (auto& [pid, child] : children_) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
}

pid_t ChildProcesses::spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                            Millis deadline, ExitFn on_exit) {
    if (argv.empty()) return -EINVAL;
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0) return -errno;

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> env;
    for (char** e = environ; *e; ++e) env.push_back(*e);
    for (const auto& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) {
        int err = errno;
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        return -err;
    }
    if (pid == 0) {
        // Own process group, so a deadline kill reaches grandchildren too.
        ::setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(pipefd[1], 1);
        ::dup2(pipefd[1], 2);
        ::execve(args[0], args.data(), env.data());
        dprintf(2, "cannot execute %s: %s", args[0], std::strerror(errno));
        ::_exit(127);
    }
    // Also done here so that a deadline kill cannot race the child's own
    // setpgid(); EACCES once the child has exec'd is harmless.
    ::setpgid(pid, pid);
    ::close(pipefd[1]);
    // The output is read from the event loop: a blocking pipe would stall
    // it, so if it cannot be made non-blocking it is not read at all.
    int flags = ::fcntl(pipefd[0], F_GETFL);
    if (flags < 0 || ::fcntl(pipefd[0], F_SETFL, flags | O_NONBLOCK) < 0) {
        LOG_WARN("output of %s not captured: cannot make its pipe non-blocking: %s", args[0], std::strerror(errno));
        ::close(pipefd[0]);
        pipefd[0] = -1;
    }

    auto child = std::make_unique<Child>();
    child->pid = pid;
    child->out_fd = pipefd[0];
    child->on_exit = std::move(on_exit);
    child->result.started = true;
    Child* raw = child.get();
    if (pipefd[0] >= 0)
        child->output_watch = std::make_unique<FdWatch>(loop_, pipefd[0], EV_READ, [raw](short) {
            char buf[512];
            // Bounded per wake-up: a child writing without pause must not hold the loop.
            for (int rounds = 0; rounds < 64; ++rounds) {
                ssize_t n = ::read(raw->out_fd, buf, sizeof buf);
                if (n > 0) {
                    std::size_t room = kMaxCapturedOutput - std::min(kMaxCapturedOutput, raw->result.output.size());
                    raw->result.output.append(buf, std::min<std::size_t>(room, n));
                    continue;
                }
                if (n < 0 && errno == EINTR) continue;
                if (n == 0) raw->output_watch->disable();
                return;
            }
        });
    if (child->output_watch) child->output_watch->enable();
    child->deadline = std::make_unique<Timer>(loop_, [raw] {
        raw->result.timed_out = true;
        ::kill(-raw->pid, SIGKILL);
    });
    child->deadline->start(deadline);
    children_.emplace(pid, std::move(child));
    return pid;
}

void ChildProcesses::kill(pid_t pid) {
    auto it = children_.find(pid);
    if (it == children_.end()) return;
    it->second->result.timed_out = true;
    ::kill(-pid, SIGKILL);
}

void ChildProcesses::reap() {
    std::vector<pid_t> done;
    for (auto& [pid, child] : children_) {
        int status;
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r != pid) continue;
        // Collect what the child wrote before it exited.
        char buf[512];
        ssize_t n;
        // Bounded: a grandchild still holding the pipe may keep writing.
        for (int rounds = 0; rounds < 64 && child->out_fd >= 0 && (n = ::read(child->out_fd, buf, sizeof buf)) > 0;
             ++rounds) {
            std::size_t room = kMaxCapturedOutput - std::min(kMaxCapturedOutput, child->result.output.size());
            child->result.output.append(buf, std::min<std::size_t>(room, n));
        }
        if (WIFEXITED(status)) {
            child->result.exited = true;
            child->result.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            child->result.signal = WTERMSIG(status);
        }
        done.push_back(pid);
    }
    for (pid_t pid : done) {
        auto node = children_.extract(pid);
        std::unique_ptr<Child> child = std::move(node.mapped());
        child->deadline->stop();
        if (child->on_exit) child->on_exit(child->result);
    }
}

}  // namespace gsdk
