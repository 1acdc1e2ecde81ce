#include "child_as.h"

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

namespace gsdk::test {

namespace {

std::optional<std::string> run(const std::function<std::string()>& body, std::optional<uid_t> as,
                               const std::vector<gid_t>& groups, const std::function<void()>& meanwhile,
                               std::chrono::milliseconds deadline) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0) return std::nullopt;
    pid_t pid = ::fork();
    if (pid < 0) return std::nullopt;
    if (pid == 0) {
        ::close(pipefd[0]);
        if (as && (::setgroups(groups.size(), groups.data()) < 0 || ::setgid(*as) < 0 || ::setuid(*as) < 0)) _exit(3);
        std::string result = body();
        std::size_t off = 0;
        while (off < result.size()) {
            ssize_t n = ::write(pipefd[1], result.data() + off, result.size() - off);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        _exit(0);
    }
    ::close(pipefd[1]);
    auto end = std::chrono::steady_clock::now() + deadline;
    if (meanwhile) meanwhile();
    std::string out;
    bool timed_out = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{pipefd[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        ssize_t n = ::read(pipefd[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::string> run_in_child(const std::function<std::string()>& body, std::optional<uid_t> as,
                                        const std::function<void()>& meanwhile, std::chrono::milliseconds deadline) {
    return run(body, as, {}, meanwhile, deadline);
}

std::optional<std::string> run_in_child_with_groups(const std::function<std::string()>& body, uid_t as,
                                                    const std::vector<gid_t>& groups) {
    return run(body, as, groups, nullptr, std::chrono::milliseconds(20000));
}

}  // namespace gsdk::test
