// HostChannel over real UNIX sockets: listen mode (our side plays QEMU's
// chardev) and connect mode (the host side reaching a VM's chardev).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gsdk/host_channel.h"
#include "gsdk/unix_socket.h"
#include "host_channel_test_support.h"

using namespace gsdk;
using namespace channel_test;

// A channel in listen mode (our side playing QEMU's chardev) on a fresh
// socket path, and what its callbacks saw.
class ListeningChannel : public ::testing::Test {
protected:
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("hb.sock");
    HostChannel ch{loop, *ChannelAddress::parse("unix:" + path), rec.callbacks()};
};

TEST_F(ListeningChannel, ListenModeDeliversLinesWhateverTheChunking) {
    ch.start();
    int fd = unix_stream_connect(path);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 1; }));
    for (const char* chunk : {"{\"a\"", ":1}\n\n{\"b\":", "2}\n"}) {
        ASSERT_GT(::send(fd, chunk, strlen(chunk), 0), 0);
        spin_until(
            loop, [] { return false; }, 5);
    }
    ASSERT_TRUE(spin_until(loop, [&] { return rec.lines.size() == 2; }));
    EXPECT_EQ(rec.lines[0], "{\"a\":1}");
    EXPECT_EQ(rec.lines[1], "{\"b\":2}");
    ::close(fd);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.disconnects == 1; }));
    EXPECT_FALSE(ch.connected());
}

TEST_F(ListeningChannel, LargeOutputSurvivesShortWrites) {
    ch.start();
    int fd = unix_stream_connect(path);
    ASSERT_TRUE(spin_until(loop, [&] { return ch.connected(); }));
    std::string big;
    for (int i = 0; big.size() < 700000; ++i) big += "{\"n\":" + std::to_string(i) + "}\n";
    ASSERT_EQ(ch.send(big), 0);
    std::string got;
    char buf[65536];
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < big.size() && std::chrono::steady_clock::now() < end) {
        loop.run_once_nonblocking();
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) got.append(buf, n);
    }
    EXPECT_EQ(got, big);
    EXPECT_EQ(ch.pending_output(), 0u);
    ::close(fd);
}

TEST_F(ListeningChannel, OneHostAtATimeTheNextWaitsLikeQemu) {
    ch.start();
    int first = unix_stream_connect(path);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 1; }));
    int second = unix_stream_connect(path);
    ASSERT_GE(second, 0);
    ::send(second, "{\"from\":2}\n", 11, 0);
    spin_until(
        loop, [] { return false; }, 100);
    EXPECT_EQ(rec.connects, 1);
    EXPECT_TRUE(rec.lines.empty());
    ::close(first);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 2 && rec.lines.size() == 1; }));
    EXPECT_EQ(rec.lines[0], "{\"from\":2}");
    ::close(second);
}

TEST_F(ListeningChannel, SendWhileDisconnectedIsRefusedNotQueued) {
    ch.start();
    EXPECT_EQ(ch.send("x\n"), -ENOTCONN);
    EXPECT_EQ(ch.pending_output(), 0u);
}

TEST(HostChannel, ConnectModeWaitsForThePeerAndReconnects) {
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("vm.sock");
    HostChannel ch(loop, *ChannelAddress::parse("unix:" + path, /*connect_unix=*/true), rec.callbacks());
    ch.set_max_retry(Millis(50));
    ch.start();
    spin_until(
        loop, [] { return false; }, 200);
    EXPECT_EQ(rec.connects, 0);

    int listener = unix_stream_listen(path);
    ASSERT_GE(listener, 0);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 1; }));
    int conn = ::accept(listener, nullptr, nullptr);
    ASSERT_GE(conn, 0);
    ::send(conn, "{\"x\":1}\n", 8, 0);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.lines.size() == 1; }));
    ::shutdown(conn, SHUT_RDWR);
    ::close(conn);
    ASSERT_TRUE(spin_until(loop, [&] { return rec.disconnects == 1; }));
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 2; }));
    ::close(listener);
}

TEST(HostChannel, DevicePathThatDoesNotExistIsRetriedNotFatal) {
    EventLoop loop;
    Recorder rec;
    HostChannel ch(loop, *ChannelAddress::parse("/nonexistent/cgcs.heartbeat"), rec.callbacks());
    ch.start();
    spin_until(
        loop, [] { return false; }, 200);
    EXPECT_EQ(rec.connects, 0);
    EXPECT_FALSE(ch.connected());
}

namespace {

// Lowers the descriptor limit to just above what is open, so that filling
// the table is cheap; restores it on destruction.
class DescriptorLimit {
public:
    explicit DescriptorLimit(int headroom) {
        ::getrlimit(RLIMIT_NOFILE, &saved_);
        int probe = ::dup(0);
        ::close(probe);
        rlimit low = saved_;
        low.rlim_cur = static_cast<rlim_t>(probe + headroom);
        ok_ = ::setrlimit(RLIMIT_NOFILE, &low) == 0;
    }
    ~DescriptorLimit() {
        for (int fd : hogs_) ::close(fd);
        ::setrlimit(RLIMIT_NOFILE, &saved_);
    }
    bool ok() const { return ok_; }
    // Opens descriptors until the table is full; returns the errno that stopped it.
    int exhaust() {
        for (;;) {
            int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) return errno;
            hogs_.push_back(fd);
        }
    }
    void release() {
        for (int fd : hogs_) ::close(fd);
        hogs_.clear();
    }

private:
    rlimit saved_{};
    bool ok_ = false;
    std::vector<int> hogs_;
};

}  // namespace

TEST_F(ListeningChannel, ListenModeOutOfDescriptorsBacksOffInsteadOfSpinning) {
    ch.start();
    int client = unix_stream_connect(path);  // waits in the backlog
    ASSERT_GE(client, 0);
    DescriptorLimit limit(16);
    ASSERT_TRUE(limit.ok());
    ASSERT_EQ(limit.exhaust(), EMFILE);
    uint64_t before = ch.counters().accept_attempts;
    // The pending connection keeps the listening socket readable: a loop
    // that retries accept() on every turn makes one attempt per turn.
    turn(loop, 300);
    uint64_t attempts = ch.counters().accept_attempts - before;
    EXPECT_GE(attempts, 1u);
    EXPECT_LE(attempts, 20u) << "accept() retried on every loop turn while out of descriptors";
    EXPECT_EQ(rec.connects, 0);
    limit.release();
    // The next attempt comes after the back-off (at most 2 s).
    ASSERT_TRUE(spin_until(
        loop, [&] { return rec.connects == 1; }, 20000))
        << "the host was never accepted";
    ::close(client);
}

TEST_F(ListeningChannel, StopWritesQueuedOutputBeforeClosing) {
    ch.start();
    int fd = unix_stream_connect(path);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(spin_until(loop, [&] { return ch.connected(); }));
    // More than the socket buffers hold: part of it is still queued when
    // the daemon says goodbye and stops, as guest-heartbeatd does on SIGTERM.
    std::string bulk;
    for (int i = 0; bulk.size() < 600000; ++i) bulk += "{\"n\":" + std::to_string(i) + "}\n";
    const std::string goodbye = "\n{\"msg_type\":\"exit\",\"log_msg\":\"stopping\"}\n";
    ASSERT_EQ(ch.send(bulk), 0);
    ASSERT_EQ(ch.send(goodbye), 0);
    ASSERT_GT(ch.pending_output(), 0u) << "the socket took everything at once: the test proves nothing";
    std::string got;
    std::thread reader([&] {
        char buf[65536];
        for (;;) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 30000) <= 0) return;
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return;
            got.append(buf, static_cast<std::size_t>(n));
        }
    });
    ch.set_stop_flush(Millis(30000));  // generous: the reader may be slow on a busy machine
    ch.stop();
    reader.join();
    ::close(fd);
    EXPECT_EQ(got.size(), bulk.size() + goodbye.size());
    EXPECT_TRUE(got == bulk + goodbye) << "the goodbye was lost or cut";
}

TEST_F(ListeningChannel, StopDoesNotWaitForAPeerThatNeverReads) {
    ch.start();
    int fd = unix_stream_connect(path);
    ASSERT_TRUE(spin_until(loop, [&] { return ch.connected(); }));
    ASSERT_EQ(ch.send(std::string(600000, 'x')), 0);
    ASSERT_GT(ch.pending_output(), 0u);
    ch.set_stop_flush(Millis(0));
    ch.stop();  // returns although the peer never reads
    EXPECT_FALSE(ch.connected());
    ::close(fd);
}

TEST(HostChannel, ConnectModeNeverBlocksOnAFullBacklog) {
    // A VM whose QEMU is stopped (SIGSTOP) never accepts: its chardev's
    // backlog fills, and a blocking connect() would hang the host's loop.
    std::string path = temp_path("vm.sock");
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 0), 0);
    std::vector<int> queued;
    for (int i = 0; i < 64; ++i) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
            ASSERT_EQ(errno, EAGAIN);
            ::close(fd);
            break;
        }
        queued.push_back(fd);
    }
    ASSERT_LT(queued.size(), 64u) << "the backlog never filled";

    EventLoop loop;
    Recorder rec;
    HostChannel ch(loop, *ChannelAddress::parse("unix:" + path, /*connect_unix=*/true), rec.callbacks());
    ch.set_max_retry(Millis(50));
    std::atomic<bool> returned{false};
    std::thread starter([&] {
        ch.start();
        returned = true;
    });
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!returned && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    bool blocked = !returned;
    if (blocked) {
        // Release the blocked connect() so the test can end.
        ::close(listener);
        listener = -1;
    }
    starter.join();
    ASSERT_FALSE(blocked) << "HostChannel::start() blocked in connect()";
    EXPECT_EQ(rec.connects, 0);
    // The owner wakes up and accepts: the channel gets through on a retry.
    for (int fd : queued) ::close(fd);
    int accepted = -1;
    ASSERT_TRUE(spin_until(
        loop,
        [&] {
            int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
            if (fd >= 0) {
                if (accepted >= 0) ::close(accepted);
                accepted = fd;
            }
            return rec.connects == 1;
        },
        20000));
    if (accepted >= 0) ::close(accepted);
    ::close(listener);
}

namespace {

// A listening channel with a host connected to it, for the batching tests.
struct HostConnected {
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("msg.sock");
    HostChannel ch{loop, *ChannelAddress::parse("unix:" + path), rec.callbacks()};
    int fd = -1;

    HostConnected() {
        ch.start();
        fd = unix_stream_connect(path);
    }
    ~HostConnected() {
        if (fd >= 0) ::close(fd);
    }
    // What the host reads while the loop turns, until `size` bytes (or 5 s).
    std::string receive(std::size_t size) {
        std::string got;
        char buf[65536];
        spin_until(loop, [&] {
            ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) got.append(buf, static_cast<std::size_t>(n));
            return got.size() >= size;
        });
        return got;
    }
};

}  // namespace

TEST(HostChannel, LinesQueuedInOneTurnLeaveInOneWrite) {
    // A relay fanning out a burst: ten lines sent before the loop turns
    // cost one write, not ten, and arrive whole and in order.
    HostConnected h;
    ASSERT_GE(h.fd, 0);
    ASSERT_TRUE(spin_until(h.loop, [&] { return h.ch.connected(); }));
    std::string all;
    uint64_t writes_before = h.ch.counters().writes;
    for (int i = 0; i < 10; ++i) {
        std::string line = "{\"n\":" + std::to_string(i) + "}\n";
        ASSERT_EQ(h.ch.send(line), 0);
        all += line;
    }
    EXPECT_EQ(h.ch.pending_output(), all.size()) << "written before the loop turned";
    ASSERT_TRUE(spin_until(h.loop, [&] { return h.ch.pending_output() == 0; }));
    EXPECT_EQ(h.ch.counters().writes - writes_before, 1u);
    EXPECT_EQ(h.receive(all.size()), all);
}

TEST(HostChannel, ABatchOfAWritesWorthGoesOutWithoutWaitingForTheLoop) {
    // What waits for the loop stays under one write (32 KiB), so a peer's
    // pending bytes are what it has not taken, not what we held back.
    HostConnected h;
    ASSERT_GE(h.fd, 0);
    ASSERT_TRUE(spin_until(h.loop, [&] { return h.ch.connected(); }));
    const std::string line = "{\"data\":\"" + std::string(3000, 'p') + "\"}\n";
    std::string all;
    for (int i = 0; i < 11; ++i, all += line) ASSERT_EQ(h.ch.send(line), 0);
    EXPECT_LT(h.ch.pending_output(), 32u * 1024) << "more than a write's worth held back";
    EXPECT_EQ(h.receive(all.size()), all);
}
