// Frames cross a port pair byte-exact and in order, for every profile.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

std::string spec(const std::string& name, const std::string& profile) {
    std::string path = profile == "legacy" ? tmp_path("sys") : shm_path(name);
    return name + ",profile=" + profile + ",path=" + path + ",buffers=1024,fifo_len=256";
}

struct Pair {
    SwitchProcess sw;
    TestGuest a, b;
    Pair(const std::string& pa, const std::string& pb, std::vector<std::string> extra = {})
        : sw(args(pa, pb, extra)), a(loc("a")), b(loc("b")) {}
    static std::vector<std::string> args(const std::string& pa, const std::string& pb, std::vector<std::string> extra) {
        std::vector<std::string> v = {"--port", spec("a", pa), "--port", spec("b", pb)};
        v.insert(v.end(), extra.begin(), extra.end());
        return v;
    }
    std::string loc(const std::string& n) { return sw.ok() ? sw.port(n).value("location", "") : ""; }
};

class ProfilePair : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

}  // namespace

TEST_P(ProfilePair, FramesOf64And1500And9000ArriveByteExactInOrderBothWays) {
    Pair p(GetParam().first, GetParam().second, {"--pair", "a,b"});
    ASSERT_TRUE(p.sw.ok()) << p.sw.log();
    ASSERT_EQ(p.a.load(), "");
    ASSERT_EQ(p.b.load(), "");
    ASSERT_EQ(p.a.configure(true), 0);
    ASSERT_EQ(p.b.configure(true), 0);

    const size_t sizes[] = {64, 1500, 9000};
    uint64_t bytes = 0;
    for (uint32_t seq = 0; seq < 60; seq++) {
        auto f = make_frame(sizes[seq % 3], seq);
        bytes += f.size();
        ASSERT_TRUE(p.a.send(f)) << "seq " << seq;
        auto got = p.b.receive();
        ASSERT_TRUE(got) << "seq " << seq << "\n" << p.sw.log();
        EXPECT_EQ(got->bytes, f) << "seq " << seq;
        if (f.size() == 9000) {
            EXPECT_EQ(got->segments, 5u);  // 1984-byte buffers: a 5-segment chain
        }
    }
    // A burst in flight at once keeps its order.
    for (uint32_t seq = 100; seq < 140; seq++) ASSERT_TRUE(p.b.send(make_frame(sizes[seq % 3], seq)));
    for (uint32_t seq = 100; seq < 140; seq++) {
        auto got = p.a.receive();
        ASSERT_TRUE(got) << "seq " << seq;
        EXPECT_EQ(got->bytes, make_frame(sizes[seq % 3], seq));
    }
    auto sa = p.sw.port("a"), sb = p.sw.port("b");
    EXPECT_EQ(sa["rx_packets"], 60);
    EXPECT_EQ(sa["rx_bytes"], bytes);
    EXPECT_EQ(sb["tx_packets"], 60);
    EXPECT_EQ(sb["tx_bytes"], bytes);
    EXPECT_EQ(sb["rx_packets"], 40);
    EXPECT_EQ(sa["tx_packets"], 40);
    EXPECT_EQ(sa["rx_errors"], 0);
    EXPECT_EQ(sb["free_errors"], 0);
}

INSTANTIATE_TEST_SUITE_P(Profiles, ProfilePair,
                         ::testing::Values(std::make_pair("file", "file"), std::make_pair("ivshmem", "legacy"),
                                           std::make_pair("legacy", "file")),
                         [](const auto& info) { return info.param.first + "_" + info.param.second; });

TEST(Forwarding, LoopbackReturnsFramesWithoutLosingBytes) {
    SwitchProcess sw({"--port", spec("a", "file"), "--loopback", "a"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    TestGuest g(shm_path("a"));
    ASSERT_EQ(g.load(), "");
    ASSERT_EQ(g.configure(true), 0);
    // Many more frames than buffers: buffers must be recycled via free/alloc.
    for (uint32_t seq = 0; seq < 3000; seq++) {
        auto f = make_frame(seq % 2 ? 64 : 4000, seq);
        ASSERT_TRUE(g.send(f)) << seq;
        auto got = g.receive();
        ASSERT_TRUE(got) << seq;
        ASSERT_EQ(got->bytes, f) << seq;
    }
    EXPECT_EQ(sw.port("a")["tx_packets"], 3000);
}

TEST(Forwarding, VlanTagIsHandedOverStrippedOrInsertedPerReceiverFeatures) {
    Pair p("file", "file", {"--pair", "a,b"});
    ASSERT_TRUE(p.sw.ok());
    ASSERT_EQ(p.a.load(), "");
    ASSERT_EQ(p.b.load(), "");
    ASSERT_EQ(p.a.configure(true), 0);
    ASSERT_EQ(p.b.configure(true, 1, 1, AVP_FEATURE_VLAN_OFFLOAD), 0);
    auto f = make_frame(100, 7);
    ASSERT_TRUE(p.a.send(f, 0, true, 0x2064));
    auto got = p.b.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, f);
    EXPECT_EQ(got->ol_flags, AVP_RX_VLAN_PKT);
    EXPECT_EQ(got->vlan_tci, 0x2064);

    // a did not negotiate the offload: the tag must be in the bytes.
    ASSERT_TRUE(p.b.send(f, 0, true, 0x0123));
    got = p.a.receive();
    ASSERT_TRUE(got);
    ASSERT_EQ(got->bytes.size(), f.size() + 4);
    EXPECT_EQ(0, std::memcmp(got->bytes.data(), f.data(), 12));
    const uint8_t tag[4] = {0x81, 0x00, 0x01, 0x23};
    EXPECT_EQ(0, std::memcmp(got->bytes.data() + 12, tag, 4));
    EXPECT_EQ(0, std::memcmp(got->bytes.data() + 16, f.data() + 12, f.size() - 12));
    EXPECT_EQ(got->ol_flags, 0);
}

TEST(Forwarding, FramesToAGuestThatIsDownAreDroppedAndCounted) {
    Pair p("file", "file", {"--pair", "a,b"});
    ASSERT_TRUE(p.sw.ok());
    ASSERT_EQ(p.a.load(), "");
    ASSERT_EQ(p.b.load(), "");
    ASSERT_EQ(p.a.configure(true), 0);
    ASSERT_EQ(p.b.configure(false), 0);
    for (uint32_t i = 0; i < 5; i++) ASSERT_TRUE(p.a.send(make_frame(64, i)));
    EXPECT_FALSE(p.b.receive(300));
    EXPECT_EQ(p.sw.port("b")["tx_drops"], 5);
    ASSERT_EQ(p.b.set_link(1), 0);
    ASSERT_TRUE(p.a.send(make_frame(64, 9)));
    auto got = p.b.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, make_frame(64, 9));
}

TEST(Forwarding, MtuLimitsWhatIsDeliveredToTheGuest) {
    Pair p("file", "file", {"--pair", "a,b"});
    ASSERT_TRUE(p.sw.ok());
    ASSERT_EQ(p.a.load(), "");
    ASSERT_EQ(p.b.load(), "");
    ASSERT_EQ(p.a.configure(true), 0);
    ASSERT_EQ(p.b.configure(true), 0);
    ASSERT_EQ(p.b.set_mtu(1000), 0);
    ASSERT_TRUE(p.a.send(make_frame(1500, 1)));
    ASSERT_TRUE(p.a.send(make_frame(1000, 2)));
    auto got = p.b.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, make_frame(1000, 2));
    EXPECT_EQ(p.sw.port("b")["tx_errors"], 1);
}

// A guest with four queues that transmits on one of them (one TCP flow does
// exactly that) must keep getting buffers for it, with the default pool. The
// last queue is the one the switch tops up last.
// Buffers lent to the idle queues' alloc FIFOs stay there until those queues
// send; if the switch let them take every spare buffer, the busy queue would
// stop for good.
TEST(Forwarding, IdleQueuesDoNotStarveTheBusyQueueOfBuffers) {
    SwitchProcess sw({"--port", "a,profile=file,path=" + shm_path("a"), "--port",
                      "b,profile=file,path=" + shm_path("b"), "--pair", "a,b"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    TestGuest a(shm_path("a")), b(shm_path("b"));
    ASSERT_EQ(a.load(), "");
    ASSERT_EQ(b.load(), "");
    ASSERT_EQ(a.info().max_tx_queues, 4);
    const uint32_t pool = 4096;  // the default
    ASSERT_EQ(a.configure(true, 4, 4), 0);
    ASSERT_EQ(b.configure(true), 0);
    // Bursts as a TCP sender makes them, so that many buffers come back to
    // the switch between two of its refills; several times the pool in all.
    const uint32_t burst = 256, bursts = 4 * pool / burst;
    uint32_t seq = 0;
    for (uint32_t k = 0; k < bursts; k++) {
        for (uint32_t i = 0; i < burst; i++, seq++)
            ASSERT_TRUE(a.send(make_frame(64, seq), 3))
                << "queue 3 got no buffer for frame " << seq << " (after " << k << " bursts)\n"
                << sw.port("a").dump();
        for (uint32_t i = 0; i < burst; i++) {
            auto got = b.receive();
            ASSERT_TRUE(got) << "frame " << seq - burst + i;
            ASSERT_EQ(got->bytes, make_frame(64, seq - burst + i));
        }
    }
    EXPECT_EQ(sw.port("b")["tx_packets"], bursts * burst);
}

namespace {

// An IPv4/TCP frame of flow `flow` (its source port), carrying `seq`.
std::vector<uint8_t> tcp_frame(uint16_t flow, uint32_t seq) {
    std::vector<uint8_t> f = make_frame(100, seq);
    const uint8_t ip[] = {0x45, 0, 0, 86, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    f[12] = 0x08;
    f[13] = 0x00;
    std::memcpy(f.data() + 14, ip, sizeof(ip));
    f[34] = static_cast<uint8_t>(flow >> 8);
    f[35] = static_cast<uint8_t>(flow);
    f[36] = 0x13;  // destination port 5001
    f[37] = 0x89;
    std::memcpy(f.data() + 38, &seq, 4);  // where TCP keeps its sequence number
    return f;
}

uint32_t seq_of(const std::vector<uint8_t>& f) {
    uint32_t seq;
    std::memcpy(&seq, f.data() + 38, 4);
    return seq;
}

}  // namespace

// A guest with several receive queues gets every frame of one flow on one
// queue, in order (its CPUs would otherwise reorder the flow, which TCP
// takes for loss), while different flows spread over the queues.
TEST(Forwarding, FramesOfOneFlowShareAReceiveQueueAndFlowsSpread) {
    Pair p("file", "file", {"--pair", "a,b"});
    ASSERT_TRUE(p.sw.ok()) << p.sw.log();
    ASSERT_EQ(p.a.load(), "");
    ASSERT_EQ(p.b.load(), "");
    ASSERT_EQ(p.a.configure(true), 0);
    ASSERT_EQ(p.b.configure(true, 4, 4), 0);
    const uint16_t flows = 16;
    const uint32_t per_flow = 20;
    for (uint32_t i = 0; i < per_flow; i++)
        for (uint16_t fl = 0; fl < flows; fl++) ASSERT_TRUE(p.a.send(tcp_frame(40000 + fl, i)));
    std::map<uint16_t, std::set<uint16_t>> queues_of_flow;
    std::map<uint16_t, uint32_t> next_seq;
    std::set<uint16_t> used;
    uint32_t got = 0;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (got < flows * per_flow && std::chrono::steady_clock::now() < give_up) {
        for (uint16_t q = 0; q < 4; q++) {
            while (auto f = p.b.receive(5, q)) {
                uint16_t fl = static_cast<uint16_t>(f->bytes[34] << 8 | f->bytes[35]);
                queues_of_flow[fl].insert(q);
                used.insert(q);
                EXPECT_EQ(seq_of(f->bytes), next_seq[fl]++) << "flow " << fl << " out of order on queue " << q;
                got++;
            }
        }
    }
    EXPECT_EQ(got, flows * per_flow);
    for (auto& [fl, qs] : queues_of_flow) EXPECT_EQ(qs.size(), 1u) << "flow " << fl << " on several queues";
    EXPECT_GE(used.size(), 2u) << "16 flows all on one queue";
}

// The smallest pool the switch takes (64 buffers, half kept for deliveries)
// still lends every transmit queue of a 4-queue guest its share, also when
// the guest sat unconfigured for a while first (what queue 0 is lent then
// can never be re-lent), and frames from the last queue cross.
TEST(SmallPool, EveryTransmitQueueGetsItsShareAfterALateConfiguration) {
    std::string small = ",buffers=64,queues=4";
    SwitchProcess sw({"--port", spec("a", "file") + small, "--port", spec("b", "file") + small, "--pair", "a,b"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    TestGuest a(sw.port("a").value("location", "")), b(sw.port("b").value("location", ""));
    ASSERT_EQ(a.load(), "");
    ASSERT_EQ(b.load(), "");
    // Unconfigured: the switch's housekeeping lends queue 0 what it lends
    // before the guest says how many queues it uses.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_EQ(a.configure(true, 4, 4), 0);
    ASSERT_EQ(b.configure(true, 4, 4), 0);
    for (uint16_t q = 0; q < 4; q++) {
        avp_desc d{};
        EXPECT_EQ(a.take_alloc_checked(&d, 2000, q), Bad::None) << "queue " << q << " was lent nothing\n"
                                                                << sw.port("a").dump();
    }
    auto f = make_frame(64, 7);
    ASSERT_TRUE(b.send(f, 3)) << "b's queue 3 was lent nothing";
    auto got = a.receive();
    ASSERT_TRUE(got) << sw.log();
    EXPECT_EQ(got->bytes, f);
}
