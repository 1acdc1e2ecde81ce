// The example VNFs run as real processes against the fake daemon: their flag
// files must steer health, votes and hangs as documented.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fake_daemon.h"

namespace ghbtest {
namespace {

class Child {
public:
    Child(const std::vector<std::string>& argv, const std::string& log) {
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 1);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    void signal(int signo) { ::kill(pid_, signo); }
    // Exit status, or -1 if it did not exit in time.
    int wait_exit(std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            int status;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            ::usleep(10000);
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
};

using gsdk::test::read_file;
using gsdk::test::write_file;

std::optional<ipc::HealthReport> challenge(FakeDaemon& d, int peer, uint64_t id, std::chrono::milliseconds wait = 5s) {
    if (!d.send(peer, FakeDaemon::challenge(id))) return std::nullopt;
    auto msg = d.receive(peer, wait);
    if (!msg || !msg->has_health()) return std::nullopt;
    return msg->health();
}

std::optional<ipc::ActionResponse> act(FakeDaemon& d, int peer, int32_t id, ipc::Event ev, ipc::NotifyType type) {
    if (!d.send(peer, FakeDaemon::action(id, ev, type, 5000))) return std::nullopt;
    auto msg = d.receive(peer, 5s);
    if (!msg || !msg->has_action_response()) return std::nullopt;
    return msg->action_response();
}

TEST(ExamplesTest, LegacyVnfFollowsItsFlagFiles) {
    TempDir dir;
    FakeDaemon daemon(dir.file("heartbeat.sock"));
    std::string state = dir.file("state");
    ::mkdir(state.c_str(), 0755);
    std::string log = dir.file("vnf.log");
    Child vnf({VNF_LEGACY, "--name", "vnf-a", "--interval", "200", "--action", "stop", "--state-dir", state, "--socket",
               daemon.path()},
              log);
    ipc::Register seen;
    int peer = daemon.accept_registration(true, "", {}, &seen);
    ASSERT_GE(peer, 0) << read_file(log);
    EXPECT_EQ(seen.application_name(), "vnf-a");
    EXPECT_EQ(seen.heartbeat_interval_ms(), 200u);
    EXPECT_EQ(seen.corrective_action(), ipc::ACTION_STOP);

    auto health = challenge(daemon, peer, 1);
    ASSERT_TRUE(health);
    EXPECT_TRUE(health->healthy());
    write_file(state + "/unhealthy", "database unreachable\n");
    health = challenge(daemon, peer, 2);
    ASSERT_TRUE(health);
    EXPECT_FALSE(health->healthy());
    EXPECT_EQ(health->log_msg(), "database unreachable");
    EXPECT_EQ(health->corrective_action(), ipc::ACTION_STOP);
    ::unlink((state + "/unhealthy").c_str());

    write_file(state + "/reject-stop", "active calls\n");
    auto vote = act(daemon, peer, 10, ipc::EVENT_STOP, ipc::NOTIFY_REVOCABLE);
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->vote_result(), ipc::VOTE_REJECT);
    EXPECT_EQ(vote->log_msg(), "active calls");
    vote = act(daemon, peer, 11, ipc::EVENT_REBOOT, ipc::NOTIFY_REVOCABLE);
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->vote_result(), ipc::VOTE_ACCEPT);
    vote = act(daemon, peer, 12, ipc::EVENT_RESUME, ipc::NOTIFY_IRREVOCABLE);
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->vote_result(), ipc::VOTE_COMPLETE);

    // Hang: the process lives, the connection stays open, no answers.
    write_file(state + "/hang", "");
    ::usleep(1300 * 1000);  // the loop looks at the flag once per 1 s tick
    EXPECT_FALSE(challenge(daemon, peer, 3, 1500ms)) << "a hung VNF must not answer";
    ::unlink((state + "/hang").c_str());
    auto late = daemon.receive(peer, 5s);
    ASSERT_TRUE(late && late->has_health()) << "answers resume once the flag is gone";
    EXPECT_EQ(late->health().challenge_id(), 3u);

    // Daemon restart: the legacy loop registers again by itself.
    daemon.stop();
    ASSERT_TRUE(daemon.listen());
    peer = daemon.accept_registration(true, "", {}, &seen);
    ASSERT_GE(peer, 0) << read_file(log);
    EXPECT_EQ(seen.application_name(), "vnf-a");

    vnf.signal(SIGTERM);
    auto bye = daemon.receive(peer, 5s);
    ASSERT_TRUE(bye && bye->has_deregister());
    EXPECT_EQ(vnf.wait_exit(5s), 0);

    std::string out = read_file(log);
    EXPECT_NE(out.find("vnf-a: registered with the heartbeat daemon"), std::string::npos) << out;
    EXPECT_NE(out.find("health check #2 -> unhealthy (database unreachable)"), std::string::npos) << out;
    EXPECT_NE(out.find("vote on stop (invocation 10) -> reject: active calls"), std::string::npos) << out;
    EXPECT_NE(out.find("notification of resume (irrevocable, invocation 12) -> complete"), std::string::npos) << out;
    EXPECT_NE(out.find("not registered"), std::string::npos) << out;
}

TEST(ExamplesTest, ModernVnfRunsManyRegistrationsAndHangsOneOnSchedule) {
    TempDir dir;
    FakeDaemon daemon(dir.file("heartbeat.sock"));
    std::string log = dir.file("vnf.log");
    constexpr int kCount = 5;
    Child vnf({VNF_MODERN, "--name", "svc", "--count", std::to_string(kCount), "--interval", "200", "--quiet",
               "--hang-after-ms", "300", "--hang-index", "2", "--socket", daemon.path()},
              log);
    std::map<std::string, int> peers;
    for (int i = 0; i < kCount; ++i) {
        ipc::Register seen;
        int peer = daemon.accept_registration(true, "", {}, &seen);
        ASSERT_GE(peer, 0) << read_file(log);
        peers[seen.application_name()] = peer;
    }
    ASSERT_EQ(peers.size(), static_cast<size_t>(kCount));
    ASSERT_TRUE(peers.count("svc-0000") && peers.count("svc-0004"));

    // Wait for the scheduled hang to be announced with its timestamp.
    std::string out;
    for (int i = 0; i < 300 && out.find("stopped answering at") == std::string::npos; ++i) {
        ::usleep(10000);
        out = read_file(log);
    }
    auto hang_line = out.find("svc-0002: hang: stopped answering at realtime_ns=");
    ASSERT_NE(hang_line, std::string::npos) << out;
    EXPECT_NE(out.find("all 5 registrations registered at realtime_ns="), std::string::npos) << out;

    uint64_t id = 100;
    for (auto& [name, peer] : peers) {
        auto health = challenge(daemon, peer, ++id, name == "svc-0002" ? 1000ms : 5000ms);
        if (name == "svc-0002")
            EXPECT_FALSE(health) << "the scheduled registration must stop answering";
        else
            EXPECT_TRUE(health && health->challenge_id() == id) << name;
    }
    auto vote = act(daemon, peers["svc-0001"], 7, ipc::EVENT_PAUSE, ipc::NOTIFY_REVOCABLE);
    ASSERT_TRUE(vote);
    EXPECT_EQ(vote->vote_result(), ipc::VOTE_ACCEPT);

    // kill -9: every connection closes without a goodbye.
    vnf.signal(SIGKILL);
    for (auto& [name, peer] : peers) {
        auto msg = daemon.receive(peer, 5s);
        EXPECT_FALSE(msg && msg->has_deregister()) << name;
        EXPECT_TRUE(daemon.wait_closed(peer, 5s)) << name;
    }
}

}  // namespace
}  // namespace ghbtest
