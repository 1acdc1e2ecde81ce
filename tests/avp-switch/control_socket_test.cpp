// The control socket faces hostile local clients: each is read without
// blocking the loop, and who, how many, how much and how long are bounded.
#include <gtest/gtest.h>

#include <dirent.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstring>
#include <thread>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

int connect_to(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the switch sends until it closes (5 s at most).
std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) break;
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

void send_text(int fd, const std::string& s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), (ssize_t)s.size());
}

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) n++;
    return n;
}

int open_fds(int pid) {
    int n = 0;
    DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!d) return -1;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') n++;
    ::closedir(d);
    return n;
}

struct ControlClients : ::testing::Test {
    SwitchProcess sw{{"--port", "a,profile=file,path=" + shm_path("a") + ",buffers=256"}};
    TestGuest g{shm_path("a")};
    void SetUp() override {
        ASSERT_TRUE(sw.ok()) << sw.log();
        ASSERT_EQ(g.load(), "");
    }
};

}  // namespace

TEST_F(ControlClients, SilentAndHalfLineClientsStallNeitherGuestsNorOtherClients) {
    int silent = connect_to(sw.socket());
    int half = connect_to(sw.socket());
    ASSERT_GE(silent, 0);
    ASSERT_GE(half, 0);
    send_text(half, "sta");
    // Meanwhile guests are answered and other clients served.
    for (int i = 0; i < 20; i++) ASSERT_EQ(g.set_mtu(1500 + i), 0) << "request " << i;
    EXPECT_TRUE(sw.ctl("ports").value("ok", false));
    EXPECT_EQ(sw.ctl("status")["control"]["clients"], 3) << "two waiting clients and this one";
    // The half line was kept: completed, it is answered like any other.
    send_text(half, "ts a\n");
    auto reply = nlohmann::json::parse(read_all(half));
    EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
    EXPECT_EQ(reply["ports"][0]["mtu"], 1519);
    ::close(half);
    ::close(silent);
    EXPECT_TRUE(sw.running());
}

TEST_F(ControlClients, AClientThatNeverFinishesItsLineIsDroppedAfterItsDeadline) {
    int slow = connect_to(sw.socket());
    ASSERT_GE(slow, 0);
    send_text(slow, "sta");
    // The deadline is 10 s: wait for the switch to hang up (EOF), 30 s at most.
    std::string got;
    for (int i = 0; i < 6 && got.empty(); i++) {
        pollfd p{slow, POLLIN, 0};
        if (::poll(&p, 1, 5000) > 0) {
            char c;
            got = ::read(slow, &c, 1) == 0 ? "eof" : "data";
        }
    }
    ::close(slow);
    EXPECT_EQ(got, "eof");
    EXPECT_EQ(sw.ctl("status")["control"]["timed_out"], 1);
    EXPECT_NE(sw.log().find("sent no complete request within 10000 ms"), std::string::npos) << sw.log();
}

TEST_F(ControlClients, SocketIsPrivateAndOtherUsersAreRefused) {
    struct stat st {};
    ASSERT_EQ(::stat(sw.socket().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
    // Open the mode up so that the credential check itself is what refuses.
    ASSERT_EQ(::chmod(sw.socket().c_str(), 0666), 0);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(pipefd[0]);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
        int fd = connect_to(sw.socket());
        if (fd < 0) ::_exit(4);
        (void)::send(fd, "ports\n", 6, MSG_NOSIGNAL);
        std::string r = read_all(fd);
        (void)::write(pipefd[1], r.data(), r.size());
        ::_exit(0);
    }
    ::close(pipefd[1]);
    std::string got = read_all(pipefd[0]);
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_NE(got.find("permission denied"), std::string::npos) << got;
    EXPECT_EQ(got.find("\"ports\""), std::string::npos) << "no port data for a stranger";
    EXPECT_EQ(sw.ctl("status")["control"]["refused_credentials"], 1);
    EXPECT_NE(sw.log().find("refused pid " + std::to_string(child) + " uid 65534"), std::string::npos) << sw.log();
}

TEST_F(ControlClients, ClientsAreBoundedAndTheExtraOneIsToldWhy) {
    std::vector<int> idle;
    for (int i = 0; i < 16; i++) {
        idle.push_back(connect_to(sw.socket()));
        ASSERT_GE(idle.back(), 0);
    }
    int extra = connect_to(sw.socket());
    ASSERT_GE(extra, 0);
    // The switch may refuse (answer and close) before the request is sent,
    // so the send may fail with EPIPE; the reason is there to read either way.
    (void)::send(extra, "ports\n", 6, MSG_NOSIGNAL);
    std::string r = read_all(extra);
    ::close(extra);
    EXPECT_NE(r.find("too many control clients"), std::string::npos) << r;
    EXPECT_EQ(g.set_mtu(2000), 0) << "guests are still answered";
    ::close(idle.back());
    idle.pop_back();
    // Once the switch has seen that one go, there is room again.
    nlohmann::json s = nlohmann::json::object();
    for (int i = 0; i < 500 && !s.value("ok", false); i++) {
        s = sw.ctl("status");
        if (!s.value("ok", false)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(s.value("ok", false)) << s.dump();
    EXPECT_GE(s["control"]["refused_busy"], 1);
    EXPECT_EQ(s["control"]["clients"], 16);
    for (int fd : idle) ::close(fd);
}

TEST_F(ControlClients, DescriptorExhaustionRefusesClientsWithoutSpinning) {
    int pid = sw.pid();
    int used = open_fds(pid);
    ASSERT_GT(used, 0);
    // Room for a few clients only.
    rlimit lim{static_cast<rlim_t>(used + 3), static_cast<rlim_t>(used + 3)};
    ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &lim, nullptr), 0) << std::strerror(errno);
    std::vector<int> idle;
    std::string refused;
    for (int i = 0; i < 12 && refused.empty(); i++) {
        int before = open_fds(pid);
        int fd = connect_to(sw.socket());
        ASSERT_GE(fd, 0);
        // An accepted client holds a descriptor of the switch and is sent
        // nothing; a refused one is closed at once (EOF). Wait for either.
        for (int w = 0; w < 1000; w++) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 10) > 0) {
                refused = "closed";
                break;
            }
            if (open_fds(pid) > before) break;
        }
        if (refused.empty())
            idle.push_back(fd);
        else
            ::close(fd);
    }
    ASSERT_EQ(refused, "closed") << "the switch never ran out of descriptors";
    EXPECT_LT(idle.size(), 12u);
    // Guests do not need descriptors: still answered.
    EXPECT_EQ(g.set_mtu(3000), 0);
    // Waiting while exhausted: the loop must sleep, not retry accept flat out.
    int late = connect_to(sw.socket());
    ASSERT_GE(late, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int fd : idle) ::close(fd);
    nlohmann::json s = nlohmann::json::object();
    for (int i = 0; i < 500 && !s.value("ok", false); i++) {
        s = sw.ctl("status");
        if (!s.value("ok", false)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::close(late);
    ASSERT_TRUE(s.value("ok", false)) << s.dump() << sw.log();
    uint64_t exhausted = s["control"]["fd_exhaustion"];
    EXPECT_GE(exhausted, 2u);
    // One per refused client (and a few retries after each pause); a busy
    // loop would count hundreds of thousands here.
    EXPECT_LT(exhausted, 50u) << sw.log();
    EXPECT_NE(sw.log().find("Too many open files"), std::string::npos) << sw.log();
    EXPECT_LE(count(sw.log(), "cannot accept a client"), 5u) << "repeated lines are rate-limited";
}

TEST_F(ControlClients, AGuestFloodingBadRequestsIsCountedButLoggedSparingly) {
    for (int i = 0; i < 100; i++) {
        uint64_t before = sw.port("a").value("ctl_requests", uint64_t(0));
        g.post_raw_request(0xdead0000 + i);
        for (int w = 0; w < 1000 && sw.port("a").value("ctl_requests", uint64_t(0)) == before; w++)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto s = sw.port("a");
    EXPECT_EQ(s["ctl_errors"], 100);
    EXPECT_LE(count(sw.log(), "is not the sync area"), 5u) << sw.log();
    EXPECT_GE(count(sw.log(), "is not the sync area"), 1u) << sw.log();
}
