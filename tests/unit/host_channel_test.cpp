// HostChannel over real UNIX sockets: listen mode (our side plays QEMU's
// chardev) and connect mode (the host side reaching a VM's chardev).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gsdk/host_channel.h"
#include "gsdk/unix_socket.h"

using namespace gsdk;

namespace {

std::string temp_path(const char* name) {
    char dir[] = "/tmp/gsdk-chan-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    return std::string(dir) + "/" + name;
}

template <typename Pred>
bool spin_until(EventLoop& loop, Pred done, int ms = 5000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        loop.run_once_nonblocking();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

struct Recorder {
    int connects = 0;
    int disconnects = 0;
    std::vector<std::string> lines;
    HostChannel::Callbacks callbacks() {
        return {[this] { ++connects; }, [this](std::string_view l) { lines.emplace_back(l); },
                [this](const std::string&) { ++disconnects; }};
    }
};

}  // namespace

TEST(HostChannel, ListenModeDeliversLinesWhateverTheChunking) {
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("hb.sock");
    HostChannel ch(loop, *ChannelAddress::parse("unix:" + path), rec.callbacks());
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

TEST(HostChannel, LargeOutputSurvivesShortWrites) {
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("hb.sock");
    HostChannel ch(loop, *ChannelAddress::parse("unix:" + path), rec.callbacks());
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

TEST(HostChannel, OneHostAtATimeTheNextWaitsLikeQemu) {
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("hb.sock");
    HostChannel ch(loop, *ChannelAddress::parse("unix:" + path), rec.callbacks());
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

TEST(HostChannel, SendWhileDisconnectedIsRefusedNotQueued) {
    EventLoop loop;
    Recorder rec;
    std::string path = temp_path("hb.sock");
    HostChannel ch(loop, *ChannelAddress::parse("unix:" + path), rec.callbacks());
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
