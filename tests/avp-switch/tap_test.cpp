// A TAP port joins the learning domain: a guest exchanges frames with the
// host's stack. Everything runs in a network namespace of the test's own;
// the host side is a raw packet socket on the TAP inside it.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstring>
#include <fstream>
#include <thread>

#include "switch_process.hpp"
#include "test_guest.hpp"
#include "test_process.h"

using namespace avptest;

namespace {

constexpr uint16_t kTestEtherType = 0x88b5;  // what make_frame() writes

// Runs a command with a kill deadline; its exit status.
int run(std::vector<std::string> argv, std::string* out = nullptr) {
    argv.insert(argv.begin(), {"/usr/bin/timeout", "-k", "5", "20"});
    return gsdk::test::run_command(argv, out, std::chrono::milliseconds(30000));
}

class NetNs {
public:
    NetNs() : name_("avpsw-" + std::to_string(::getpid())) { ok_ = run({"ip", "netns", "add", name_}) == 0; }
    ~NetNs() {
        if (ok_) run({"ip", "netns", "del", name_});
    }
    bool ok() const { return ok_; }
    const std::string& name() const { return name_; }
    // A raw packet socket on `ifname` inside the namespace (made on a thread
    // that enters it: a socket stays in the namespace it was made in).
    int packet_socket(const std::string& ifname) {
        int result = -1;
        std::thread t([&] {
            int ns = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
            if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) return;
            ::close(ns);
            int s = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
            sockaddr_ll a{};
            a.sll_family = AF_PACKET;
            a.sll_protocol = htons(ETH_P_ALL);
            a.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
            if (s >= 0 && a.sll_ifindex > 0 && ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) result = s;
        });
        t.join();
        return result;
    }

private:
    std::string name_;
    bool ok_ = false;
};

// Next frame of ours on the packet socket (the stack sends its own too).
std::vector<uint8_t> host_receive(int s) {
    std::vector<uint8_t> buf(65536);
    for (;;) {
        pollfd p{s, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return {};
        sockaddr_ll from{};
        socklen_t fl = sizeof(from);
        ssize_t n = ::recvfrom(s, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n < 14) continue;
        if (from.sll_pkttype == PACKET_OUTGOING) continue;  // our own sends, looped back to us
        if (buf[12] != (kTestEtherType >> 8) || buf[13] != (kTestEtherType & 0xff)) continue;
        return {buf.begin(), buf.begin() + n};
    }
}

// Next frame of ours at the guest, skipping what the host stack floods.
std::optional<RxFrame> guest_receive(TestGuest& g) {
    for (int i = 0; i < 100; i++) {
        auto f = g.receive(5000);
        if (!f) return f;
        if (f->bytes.size() >= 14 && f->bytes[12] == (kTestEtherType >> 8) && f->bytes[13] == (kTestEtherType & 0xff))
            return f;
    }
    return std::nullopt;
}

struct Tap : ::testing::Test {
    NetNs ns;
    void SetUp() override {
        if (::geteuid() != 0 || ::access("/dev/net/tun", R_OK | W_OK) != 0)
            GTEST_SKIP() << "needs root and /dev/net/tun";
        ASSERT_TRUE(ns.ok()) << "ip netns add failed";
    }
};

}  // namespace

TEST_F(Tap, AGuestAndTheHostStackExchangeFramesOf64And1500And9000Bytes) {
    std::string region = shm_path("g");
    SwitchProcess sw(
        {"--port", "g,profile=file,path=" + region + ",buffers=1024", "--tap", "host,ifname=avptap0,mtu=9216"},
        {"ip", "netns", "exec", ns.name()});
    ASSERT_TRUE(sw.ok()) << sw.log();
    int s = ns.packet_socket("avptap0");
    ASSERT_GE(s, 0) << "no avptap0 in the namespace";
    TestGuest g(region);
    ASSERT_EQ(g.load(), "");
    ASSERT_EQ(g.configure(true), 0);
    const uint8_t host_mac[6] = {0x02, 0x48, 0x4f, 0x53, 0x54, 0x01};
    const uint8_t* guest_mac = g.info().ethaddr;

    uint32_t seq = 0;
    for (size_t size : {64, 1500, 9000}) {
        // Host stack -> guest (unicast to the guest's address).
        auto down = make_frame(size, seq++, guest_mac, host_mac);
        ASSERT_EQ(::send(s, down.data(), down.size(), 0), static_cast<ssize_t>(down.size())) << std::strerror(errno);
        auto got = guest_receive(g);
        ASSERT_TRUE(got) << size << "\n" << sw.log();
        EXPECT_EQ(got->bytes, down) << size;
        if (size == 9000) {
            EXPECT_EQ(got->segments, 5u) << "a chain of host buffers on the AVP side";
        }
        // Guest -> host stack (unicast to the address the switch has learnt).
        auto up = make_frame(size, seq++, host_mac, guest_mac);
        ASSERT_TRUE(g.send(up));
        auto seen = host_receive(s);
        EXPECT_EQ(seen, up) << size;
    }
    ::close(s);
    auto t = sw.port("host");
    EXPECT_EQ(t["profile"], "tap");
    EXPECT_EQ(t["location"], "avptap0");
    EXPECT_EQ(t["tx_packets"], 3) << "guest frames written to the TAP";
    EXPECT_GE(t["rx_packets"], 3) << "frames read from the TAP (the stack's own included)";
    EXPECT_EQ(t["tx_drops"], 0);
    EXPECT_EQ(sw.port("g")["rx_errors"], 0);
}

TEST_F(Tap, ConfigFileTapIsCreatedUpWithItsMtuAndGoesWithTheSwitch) {
    std::string cfg = tmp_path("tap.json");
    std::ofstream(cfg) << R"({"ports": [{"name": "g", "profile": "file", "path": ")" << shm_path("c")
                       << R"(", "buffers": 256}], "taps": [{"name": "up", "ifname": "avptap1", "mtu": 4000}]})";
    std::string link;
    {
        SwitchProcess sw({"--config", cfg}, {"ip", "netns", "exec", ns.name()});
        ASSERT_TRUE(sw.ok()) << sw.log();
        ASSERT_EQ(run({"ip", "-n", ns.name(), "link", "show", "avptap1"}, &link), 0) << link;
        EXPECT_NE(link.find("mtu 4000"), std::string::npos) << link;
        EXPECT_NE(link.find(",UP"), std::string::npos) << link;
        EXPECT_EQ(sw.port("up")["mtu"], 4000);
    }
    EXPECT_NE(run({"ip", "-n", ns.name(), "link", "show", "avptap1"}, &link), 0) << "the TAP went with the switch";
    ::unlink(cfg.c_str());
}

TEST(TapConfig, BadTapSpecsAreRefused) {
    std::string p = "a,profile=file,path=" + shm_path("t");
    for (auto [spec, text] :
         std::vector<std::pair<std::string, std::string>>{{"t,mtu=20", "mtu=20: expected a number"},
                                                          {"t,ifname=a/b", "ifname=a/b"},
                                                          {"t,colour=red", "unknown tap option 'colour'"},
                                                          {"a", "duplicate port name 'a'"},
                                                          {"averyveryverylongname", "longer than 15 characters"}}) {
        RunResult r = run_switch_cli({"run", "--socket", tmp_path("t.sock"), "--port", p, "--tap", spec});
        EXPECT_EQ(r.exit_code, 2) << spec;
        EXPECT_NE(r.err.find(text), std::string::npos) << spec << ": " << r.err;
    }
    RunResult r = run_switch_cli({"run", "--socket", tmp_path("t.sock"), "--port", p, "--tap", "t", "--pair", "a,t"});
    EXPECT_NE(r.err.find("joins the learning domain only"), std::string::npos) << r.err;
}
