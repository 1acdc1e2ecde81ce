// gsdk::IpcClient against a plain SOCK_SEQPACKET server played by the test.
#include "gsdk/ipc_client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gsdk/unix_socket.h"

namespace {

using namespace std::chrono_literals;
using gsdk::IpcClient;

class IpcClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ipc-client-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/daemon.sock";
    }
    void TearDown() override {
        for (int fd : fds_) ::close(fd);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    int keep(int fd) {
        fds_.push_back(fd);
        return fd;
    }
    // A daemon that listens with the given backlog and never accepts unless told.
    int listen_(int backlog) {
        int fd = keep(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(fd, backlog), 0);
        return fd;
    }
    std::unique_ptr<IpcClient> client(IpcClient::Callbacks cb = {}, std::size_t outbox = 256) {
        IpcClient::Options o{path_};
        o.outbox_limit = outbox;
        auto c = std::make_unique<IpcClient>(o, std::move(cb));
        EXPECT_EQ(c->open(), 0);
        return c;
    }
    static bool readable(int fd, int timeout_ms) {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, timeout_ms) == 1;
    }

    std::string dir_, path_;
    std::vector<int> fds_;
};

TEST_F(IpcClientTest, NoDaemonGivesTheErrnoAndPlansNothingByItself) {
    auto c = client();
    EXPECT_EQ(c->connect_now(), -ENOENT);
    EXPECT_FALSE(c->connected());
    EXPECT_FALSE(c->reconnect_planned());
}

TEST_F(IpcClientTest, BackoffDoublesUpToTheMaximumWithJitterOfAQuarter) {
    auto c = client();
    auto expect_step = [&](std::chrono::milliseconds step) {
        auto before = IpcClient::Clock::now();
        c->connect_later();
        auto after = IpcClient::Clock::now();
        ASSERT_TRUE(c->deadline());
        EXPECT_GE(*c->deadline(), before + step * 3 / 4) << step.count();
        EXPECT_LE(*c->deadline(), after + step * 5 / 4) << step.count();
    };
    expect_step(50ms);
    expect_step(100ms);
    expect_step(200ms);
    expect_step(400ms);
    expect_step(800ms);
    expect_step(1600ms);
    expect_step(2000ms);
    expect_step(2000ms);
    c->reset_backoff();
    expect_step(50ms);
}

TEST_F(IpcClientTest, ConnectNeverBlocksOnAFullBacklog) {
    listen_(0);
    // Fill the daemon's backlog with connections it never accepts.
    int rc = 0;
    std::vector<std::unique_ptr<IpcClient>> clients;
    for (int i = 0; i < 8 && rc == 0; ++i) {
        clients.push_back(client());
        rc = clients.back()->connect_now();
    }
    // A blocking connect would hang here; the test's deadline would catch it.
    EXPECT_EQ(rc, -EAGAIN);
}

TEST_F(IpcClientTest, ARetryAtItsDeadlineConnectsAndTellsTheOwner) {
    int connected = 0;
    auto c = client({[&] { ++connected; }, nullptr, nullptr, nullptr, nullptr});
    ASSERT_EQ(c->connect_now(), -ENOENT);
    c->connect_later();
    c->arm(std::nullopt);
    listen_(4);
    ASSERT_TRUE(readable(c->fd(), 5000)) << "the descriptor wakes the owner at the retry";
    c->process();
    EXPECT_EQ(connected, 1);
    EXPECT_TRUE(c->connected());
    EXPECT_EQ(c->generation(), 1u);
}

TEST_F(IpcClientTest, OutboxKeepsOrderWhileTheDaemonIsNotReadingAndIsBounded) {
    int server = listen_(4);
    auto c = client({}, 64);
    ASSERT_EQ(c->connect_now(), 0);
    int conn = keep(::accept4(server, nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_GE(conn, 0);
    std::string payload(4000, 'x');
    int sent = 0, rc = 0;
    for (; sent < 10000; ++sent) {
        payload.replace(0, 8, std::to_string(100000000 + sent).substr(1));
        if ((rc = c->send(payload)) < 0) break;
    }
    EXPECT_EQ(rc, -ENOBUFS) << "the outbox is bounded";
    // The daemon reads everything: every accepted message arrives, in order.
    std::vector<char> buf(gsdk::kMaxIpcMessage);
    int got = 0;
    while (got < sent) {
        c->process();
        long n = ::recv(conn, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            ASSERT_EQ(errno, EAGAIN);
            ASSERT_TRUE(readable(c->fd(), 5000) || readable(conn, 0)) << "stuck after " << got << " of " << sent;
            continue;
        }
        ASSERT_EQ(n, 4000);
        EXPECT_EQ(std::string(buf.data(), 8), std::to_string(100000000 + got).substr(1));
        ++got;
    }
}

TEST_F(IpcClientTest, ADescriptorSentByTheDaemonReachesTheOwner) {
    int server = listen_(4);
    struct stat sent_stat {};
    ASSERT_EQ(::stat("/dev/null", &sent_stat), 0);
    bool seen = false;
    auto c = client({nullptr,
                     [&](const char* data, std::size_t len, int fd) {
                         EXPECT_EQ(std::string(data, len), "with-fd");
                         struct stat st {};
                         ASSERT_GE(fd, 0);
                         ASSERT_EQ(::fstat(fd, &st), 0);
                         EXPECT_EQ(st.st_rdev, sent_stat.st_rdev);
                         seen = true;
                     },
                     nullptr, nullptr, nullptr});
    ASSERT_EQ(c->connect_now(), 0);
    int conn = keep(::accept4(server, nullptr, nullptr, SOCK_CLOEXEC));
    int devnull = keep(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(gsdk::seqpacket_send_with_fd(conn, "with-fd", 7, devnull), 0);
    ASSERT_TRUE(readable(c->fd(), 5000));
    c->process();
    EXPECT_TRUE(seen);
}

TEST_F(IpcClientTest, ADaemonThatClosesIsReportedLost) {
    int server = listen_(4);
    std::string reason;
    auto c = client({nullptr, nullptr, [&](const std::string& r) { reason = r; }, nullptr, nullptr});
    ASSERT_EQ(c->connect_now(), 0);
    int conn = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(conn, 0);
    ::close(conn);
    ASSERT_TRUE(readable(c->fd(), 5000));
    c->process();
    EXPECT_EQ(reason, "daemon closed the connection");
    EXPECT_FALSE(c->connected());
}

TEST_F(IpcClientTest, AnOversizedDatagramIsDroppedAndSaidSo) {
    int server = listen_(4);
    std::string dropped;
    int received = 0;
    auto c = client({nullptr, [&](const char*, std::size_t, int) { ++received; }, nullptr,
                     [&](const std::string& what) { dropped = what; }, nullptr});
    ASSERT_EQ(c->connect_now(), 0);
    int conn = keep(::accept4(server, nullptr, nullptr, SOCK_CLOEXEC));
    std::string big(gsdk::kMaxIpcMessage + 1, 'b');
    ASSERT_EQ(::send(conn, big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    ASSERT_EQ(::send(conn, "ok", 2, 0), 2);
    ASSERT_TRUE(readable(c->fd(), 5000));
    c->process();
    EXPECT_NE(dropped.find("larger than"), std::string::npos);
    EXPECT_EQ(received, 1) << "the next message still arrives";
}

}  // namespace
