// HostChannel in device mode on a real character device: a pty pair plays
// the virtio-serial port (PROTOCOLS quirks: EBUSY for a second opener,
// POLLHUP while the host is away, short writes and EAGAIN, data written
// before the open).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "gsdk/host_channel.h"
#include "host_channel_test_support.h"

using namespace gsdk;
using namespace channel_test;

namespace {

// A pty plays the virtio-serial port: the channel opens the slave like the
// guest opens /dev/virtio-ports/NAME, and the test holds the master as the host.
struct PtyPort {
    int master = -1;
    std::string path;
    PtyPort() {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) < 0 || ::unlockpt(master) < 0) return;
        path = ::ptsname(master);
        // Raw, like a port: no echo, no newline translation.
        int slave = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        termios t;
        if (slave >= 0 && ::tcgetattr(slave, &t) == 0) {
            ::cfmakeraw(&t);
            ::tcsetattr(slave, TCSANOW, &t);
        }
        if (slave >= 0) ::close(slave);
        int flags = ::fcntl(master, F_GETFL);
        ::fcntl(master, F_SETFL, flags | O_NONBLOCK);
    }
    ~PtyPort() { hang_up(); }
    bool ok() const { return master >= 0 && !path.empty(); }
    void hang_up() {
        if (master >= 0) ::close(master);
        master = -1;
    }
    void write_all(const std::string& bytes) const {
        std::size_t off = 0;
        while (off < bytes.size()) {
            ssize_t n = ::write(master, bytes.data() + off, bytes.size() - off);
            if (n > 0) off += static_cast<std::size_t>(n);
        }
    }
    std::string read_some() const {
        char buf[65536];
        ssize_t n = ::read(master, buf, sizeof buf);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
};

// Stderr captured into a file while alive (the channel's log lines).
class CapturedStderr {
public:
    CapturedStderr() : path_(temp_path("stderr.log")) {
        std::fflush(stderr);
        saved_ = ::dup(2);
        int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ::dup2(fd, 2);
        ::close(fd);
    }
    ~CapturedStderr() { restore(); }
    std::string text() {
        restore();
        std::string s;
        FILE* f = std::fopen(path_.c_str(), "r");
        if (!f) return s;
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
        std::fclose(f);
        return s;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    std::string path_;
    int saved_ = -1;
};

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

// Root may open an exclusive tty anyway (CAP_SYS_ADMIN): drop that capability
// from this thread's effective set while alive, as a daemon without it runs.
class WithoutSysAdmin {
public:
    WithoutSysAdmin() {
        header_.version = _LINUX_CAPABILITY_VERSION_3;
        header_.pid = 0;
        if (::syscall(SYS_capget, &header_, saved_) != 0) return;
        __user_cap_data_struct lowered[2];
        std::memcpy(lowered, saved_, sizeof lowered);
        lowered[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
        ok_ = ::syscall(SYS_capset, &header_, lowered) == 0;
    }
    ~WithoutSysAdmin() {
        if (ok_) ::syscall(SYS_capset, &header_, saved_);
    }
    bool ok() const { return ok_; }

private:
    __user_cap_header_struct header_{};
    __user_cap_data_struct saved_[2]{};
    bool ok_ = false;
};

}  // namespace

TEST(HostChannelDevice, PtyPortCarriesLinesBothWaysThroughShortWritesAndEagain) {
    PtyPort port;
    ASSERT_TRUE(port.ok());
    EventLoop loop;
    Recorder rec;
    HostChannel ch(loop, *ChannelAddress::parse(port.path), rec.callbacks());
    ch.start();
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 1; }));
    port.write_all("{\"from\":\"host\"}\n");
    ASSERT_TRUE(spin_until(loop, [&] { return rec.lines.size() == 1; }));
    EXPECT_EQ(rec.lines[0], "{\"from\":\"host\"}");
    // A pty holds a few KiB: most of this goes out in short writes after EAGAIN.
    std::string big;
    for (int i = 0; big.size() < 200000; ++i) big += "{\"n\":" + std::to_string(i) + "}\n";
    ASSERT_EQ(ch.send(big), 0);
    EXPECT_GT(ch.pending_output(), 0u);
    std::string got;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (got.size() < big.size() && std::chrono::steady_clock::now() < end) {
        loop.run_once_nonblocking();
        std::string chunk = port.read_some();
        if (chunk.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        got += chunk;
    }
    EXPECT_TRUE(got == big) << "got " << got.size() << " of " << big.size() << " bytes";
    EXPECT_EQ(ch.pending_output(), 0u);
    EXPECT_GT(ch.counters().writes, 2u);
}

TEST(HostChannelDevice, DataTheHostWroteBeforeTheOpenIsDelivered) {
    PtyPort port;
    ASSERT_TRUE(port.ok());
    port.write_all("{\"early\":1}\n");
    EventLoop loop;
    Recorder rec;
    HostChannel ch(loop, *ChannelAddress::parse(port.path), rec.callbacks());
    ch.start();
    ASSERT_TRUE(spin_until(loop, [&] { return rec.lines.size() == 1; }));
    EXPECT_EQ(rec.lines[0], "{\"early\":1}");
}

TEST(HostChannelDevice, HangUpWhileDisconnectedDoesNotSpin) {
    PtyPort port;
    ASSERT_TRUE(port.ok());
    EventLoop loop;
    Recorder rec;
    HostChannel ch(loop, *ChannelAddress::parse(port.path), rec.callbacks());
    ch.set_max_retry(Millis(100));
    ch.start();
    ASSERT_TRUE(spin_until(loop, [&] { return rec.connects == 1; }));
    // The host goes away: the port now reports POLLIN|POLLHUP (and a pty
    // POLLOUT too) on every poll, and read() returns 0.
    port.hang_up();
    ASSERT_TRUE(spin_until(loop, [&] { return rec.disconnects == 1; }));
    auto before = ch.counters();
    turn(loop, 300);
    auto after = ch.counters();
    EXPECT_EQ(rec.connects, 1) << "a hung-up port was taken for a returning host";
    EXPECT_EQ(rec.disconnects, 1);
    EXPECT_LE(after.reads - before.reads, 2u) << "reading a hung-up port in a loop";
    EXPECT_LE(after.probes - before.probes, 20u) << "probing without back-off";
    EXPECT_FALSE(ch.connected());
}

TEST(HostChannelDevice, BusyPortIsRetriedQuietlyUntilFree) {
    PtyPort port;
    ASSERT_TRUE(port.ok());
    // Another process owns the port: open() fails with EBUSY, as a second
    // open of a virtio-serial port does.
    int owner = ::open(port.path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(owner, 0);
    ASSERT_EQ(::ioctl(owner, TIOCEXCL), 0);
    WithoutSysAdmin unprivileged;
    ASSERT_TRUE(unprivileged.ok());
    ASSERT_LT(::open(port.path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC), 0);
    ASSERT_EQ(errno, EBUSY);

    EventLoop loop;
    Recorder rec;
    HostChannel ch(loop, *ChannelAddress::parse(port.path), rec.callbacks());
    ch.set_max_retry(Millis(50));
    std::string log;
    {
        CapturedStderr captured;
        ch.start();
        turn(loop, 300);
        log = captured.text();
    }
    EXPECT_EQ(rec.connects, 0);
    EXPECT_GE(ch.counters().open_attempts, 3u) << "not retried";
    EXPECT_EQ(count_of(log, "Device or resource busy"), 1u) << log;
    ::ioctl(owner, TIOCNXCL);
    ::close(owner);
    ASSERT_TRUE(spin_until(
        loop, [&] { return rec.connects == 1; }, 20000));
}
