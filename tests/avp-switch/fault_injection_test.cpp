// The switch's hostile-host modes put exactly the promised bad thing where a
// guest will find it; a careful guest (ours) refuses each one.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

struct Faults : ::testing::TestWithParam<std::string> {
    std::string path;
    std::unique_ptr<SwitchProcess> sw;
    std::unique_ptr<TestGuest> g;
    void SetUp() override {
        std::string profile = GetParam();
        path = profile == "legacy" ? tmp_path("sys") : shm_path("a");
        sw = std::make_unique<SwitchProcess>(std::vector<std::string>{
            "--port", "a,profile=" + profile + ",path=" + path + ",buffers=256", "--loopback", "a"});
        ASSERT_TRUE(sw->ok()) << sw->log();
        g = std::make_unique<TestGuest>(sw->port("a").value("location", ""));
        ASSERT_EQ(g->load(), "");
        ASSERT_EQ(g->configure(true), 0);
    }
    Bad inject(const std::string& mode) {
        auto r = sw->ctl("fault a " + mode);
        EXPECT_TRUE(r.value("ok", false)) << r.dump();
        return g->receive_checked();
    }
};

}  // namespace

TEST_P(Faults, EveryRingFaultIsCaughtByACarefulGuest) {
    EXPECT_EQ(inject("slot-outside"), Bad::SlotAddress);
    EXPECT_EQ(inject("data-outside"), Bad::DataAddress);
    EXPECT_EQ(inject("next-outside"), Bad::NextAddress);
    EXPECT_EQ(inject("oversize"), Bad::Length);
    EXPECT_EQ(inject("chain-loop"), Bad::ChainLoop);
    EXPECT_EQ(inject("nb-segs-lie"), Bad::NbSegs);
    EXPECT_EQ(inject("fifo-index"), Bad::FifoIndex);
    ASSERT_TRUE(sw->ctl("fault a clear").value("ok", false));
    // After clear the ring is sane again and real traffic flows.
    auto f = make_frame(700, 1);
    std::optional<RxFrame> got;
    for (int tries = 0; tries < 3 && !got; tries++) {
        ASSERT_TRUE(g->send(f));
        got = g->receive(1000);
    }
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, f);
    auto s = sw->port("a");
    EXPECT_EQ(s["faults_injected"], 7);
    EXPECT_EQ(s["free_errors"], 0) << "fault buffers returned by the guest are reclaimed";
    EXPECT_TRUE(sw->running());
}

TEST_P(Faults, WrongMagicsAreRefusedAtLoadAndClearRestoresThem) {
    EXPECT_TRUE(sw->ctl("fault a devinfo-magic").value("ok", false));
    EXPECT_EQ(g->load(), "bad device info magic");
    EXPECT_TRUE(sw->ctl("fault a clear").value("ok", false));
    EXPECT_EQ(g->load(), "");
    EXPECT_TRUE(sw->ctl("fault a memmap-magic").value("ok", false));
    EXPECT_EQ(g->load(), "bad memory map magic");
    EXPECT_TRUE(sw->ctl("fault a clear").value("ok", false));
    EXPECT_EQ(g->load(), "");
    auto r = sw->ctl("fault a region-magic");
    if (GetParam() == "legacy") {
        EXPECT_FALSE(r.value("ok", true));
        EXPECT_NE(r.value("error", "").find("no region header"), std::string::npos);
    } else {
        EXPECT_TRUE(r.value("ok", false));
        EXPECT_EQ(g->load(), "bad region magic");
        EXPECT_TRUE(sw->ctl("fault a clear").value("ok", false));
        EXPECT_EQ(g->load(), "");
    }
}

TEST_P(Faults, EveryTransmitPathFaultIsCaughtByACarefulGuest) {
    // Empty the alloc FIFO first: a fault buffer comes after what is queued.
    // (With 256 buffers the host keeps half for deliveries: no refill follows.)
    int normal = 0;
    while (g->take_alloc_checked(nullptr, 200) == Bad::None && normal < 2000) normal++;
    ASSERT_GT(normal, 0);
    auto alloc_fault = [&](const std::string& mode, avp_desc* d = nullptr) {
        auto r = sw->ctl("fault a " + mode);
        EXPECT_TRUE(r.value("ok", false)) << mode << ": " << r.dump();
        return g->take_alloc_checked(d);
    };
    EXPECT_EQ(alloc_fault("alloc-outside"), Bad::SlotAddress);
    EXPECT_EQ(alloc_fault("alloc-data-outside"), Bad::DataAddress);
    EXPECT_EQ(alloc_fault("alloc-short-room"), Bad::Length);
    // Usable buffers with stale fields a guest must overwrite, never follow.
    avp_desc d{};
    EXPECT_EQ(alloc_fault("alloc-chain-loop", &d), Bad::None);
    EXPECT_EQ(d.nb_segs, AVP_MAX_SEGMENTS);
    EXPECT_NE(d.next, 0u) << "points back at itself";
    EXPECT_EQ(alloc_fault("alloc-garbage", &d), Bad::None);
    EXPECT_EQ(d.data_len, 0xffff);
    EXPECT_EQ(d.nb_segs, 0xff);
    // A guest that writes every field sends through those buffers intact.
    for (uint32_t seq = 0; seq < 2; seq++) {
        auto f = make_frame(100, seq);
        ASSERT_TRUE(g->send(f));
        auto got = g->receive();
        ASSERT_TRUE(got);
        EXPECT_EQ(got->bytes, f);
    }
    EXPECT_TRUE(sw->ctl("fault a alloc-index").value("ok", false));
    EXPECT_EQ(g->take_alloc_checked(), Bad::FifoIndex);
    EXPECT_TRUE(sw->ctl("fault a free-index").value("ok", false));
    EXPECT_EQ(g->check_free_index(), Bad::FifoIndex);
    ASSERT_TRUE(sw->ctl("fault a clear").value("ok", false));
    EXPECT_EQ(g->check_free_index(), Bad::None);
    // The guest sends again, so buffers flow and alloc is refilled.
    ASSERT_TRUE(g->send(make_frame(64, 7)));
    ASSERT_TRUE(g->receive());
    Bad after = g->take_alloc_checked(nullptr, 300);
    EXPECT_TRUE(after == Bad::None || after == Bad::Empty) << static_cast<int>(after);
    auto s = sw->port("a");
    EXPECT_EQ(s["faults_injected"], 7);
    EXPECT_EQ(s["rx_errors"], 0) << "the frames sent through stale buffers were well formed";
    EXPECT_TRUE(sw->running());
}

TEST_P(Faults, ControlResponseFaultsReachTheGuestOncePerCount) {
    ASSERT_TRUE(sw->ctl("fault a resp-address").value("ok", false));
    EXPECT_FALSE(g->set_mtu(1500)) << "the answer names another address: not ours";
    ASSERT_TRUE(sw->ctl("fault a resp-result 2").value("ok", false));
    EXPECT_EQ(g->set_mtu(1500), 0x5a5a5a5a) << "a result that is no errno";
    EXPECT_EQ(g->set_mtu(1500), 0x5a5a5a5a);
    EXPECT_EQ(g->set_mtu(1500), 0) << "the count is used up: honest again";
    ASSERT_TRUE(sw->ctl("fault a resp-result 5").value("ok", false));
    ASSERT_TRUE(sw->ctl("fault a clear").value("ok", false));
    EXPECT_EQ(g->set_mtu(1400), 0) << "clear drops what was left";
    EXPECT_EQ(sw->port("a")["faults_injected"], 3);
}

INSTANTIATE_TEST_SUITE_P(Profiles, Faults, ::testing::Values("file", "legacy"));

TEST(HostileGuest, GarbageOnTheRingsIsCountedNotFollowed) {
    SwitchProcess sw({"--port", "a,profile=file,path=" + shm_path("a") + ",buffers=256", "--loopback", "a"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    TestGuest g(shm_path("a"));
    ASSERT_EQ(g.load(), "");
    ASSERT_EQ(g.configure(true), 0);
    // Addresses that are no buffer of ours, on tx and on free.
    g.post_raw_tx(0x1234);
    g.post_raw_free(g.info().pool[0].va + 64);
    // Descriptors that lie about their chain or their bytes.
    auto f = make_frame(3000, 1);
    ASSERT_TRUE(g.send_mangled(f, [](avp_desc* d, uint64_t va) { d->next = va; }));  // loop
    ASSERT_TRUE(g.send_mangled(f, [](avp_desc* d, uint64_t) { d->data = 8; }));      // wild data
    ASSERT_TRUE(g.send_mangled(f, [](avp_desc* d, uint64_t) { d->data_len = 60000; }));
    ASSERT_TRUE(g.send_mangled(f, [](avp_desc* d, uint64_t) { d->nb_segs = 9; }));
    ASSERT_TRUE(g.send_mangled(f, [](avp_desc* d, uint64_t) { d->pkt_len = 100; }));
    ASSERT_TRUE(g.send_mangled(f, [](avp_desc* d, uint64_t) { d->next = 0; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto s = sw.port("a");
    EXPECT_EQ(s["rx_errors"], 7);
    EXPECT_EQ(s["rx_packets"], 0);
    EXPECT_EQ(s["free_errors"], 1);
    f = make_frame(64, 1);
    ASSERT_TRUE(g.send(f));
    auto got = g.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, f);
}
