// Guest control requests through req/resp and the sync area.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

struct Control : ::testing::Test {
    SwitchProcess sw{{"--port", "a,profile=file,path=" + shm_path("a") + ",buffers=256,queues=2"}};
    TestGuest g{shm_path("a")};
    void SetUp() override {
        ASSERT_TRUE(sw.ok()) << sw.log();
        ASSERT_EQ(g.load(), "");
    }
};

}  // namespace

TEST_F(Control, ConfigureDeviceIsAnsweredAndVisibleInStats) {
    EXPECT_EQ(sw.port("a")["guest_state"], "unconfigured");
    ASSERT_EQ(g.configure(true, 2, 2, AVP_FEATURE_VLAN_OFFLOAD), 0);
    auto s = sw.port("a");
    EXPECT_EQ(s["guest_state"], "up");
    EXPECT_EQ(s["num_tx_queues"], 2);
    EXPECT_EQ(s["num_rx_queues"], 2);
    EXPECT_EQ(s["features"], AVP_FEATURE_VLAN_OFFLOAD);
    EXPECT_EQ(s["driver_type"], AVP_DRIVER_DPDK);
    EXPECT_EQ(s["driver_version"], AVP_GUEST_VERSION);
}

TEST_F(Control, LinkUpDownMtuAndShutdown) {
    ASSERT_EQ(g.configure(true), 0);
    ASSERT_EQ(g.set_link(0), 0);
    EXPECT_EQ(sw.port("a")["guest_state"], "down");
    ASSERT_EQ(g.set_link(1), 0);
    EXPECT_EQ(sw.port("a")["guest_state"], "up");
    ASSERT_EQ(g.set_mtu(9000), 0);
    EXPECT_EQ(sw.port("a")["mtu"], 9000);
    ASSERT_EQ(g.shutdown(), 0);
    EXPECT_EQ(sw.port("a")["guest_state"], "shutdown");
    EXPECT_EQ(sw.port("a")["ctl_requests"], 5);
    EXPECT_EQ(sw.port("a")["ctl_errors"], 0);
}

TEST_F(Control, BadRequestsGetAnErrnoAndTheSwitchCarriesOn) {
    EXPECT_EQ(g.set_mtu(10), -EINVAL);
    EXPECT_EQ(g.set_mtu(100000), -EINVAL);
    EXPECT_EQ(g.set_link(7), -EINVAL);
    EXPECT_EQ(g.configure(true, 3, 1), -EINVAL) << "more queues than offered";
    EXPECT_EQ(g.configure(true, 1, 1, 0x80), -ENOTSUP);
    avp_request r{};
    r.req_id = 99;
    EXPECT_EQ(g.request(r), -EINVAL);
    r.req_id = AVP_REQ_CFG_DEVICE;
    r.config.device_id = g.info().device_id ^ 1;
    r.config.driver_type = AVP_DRIVER_DPDK;
    r.config.num_tx_queues = r.config.num_rx_queues = 1;
    EXPECT_EQ(g.request(r), -ESTALE) << "a stale device id means the guest missed a move";
    EXPECT_EQ(sw.port("a")["mtu"], AVP_MAX_FRAME - 22) << "refused MTUs change nothing";

    // A request address that is not the sync area: counted, echoed, ignored.
    g.post_raw_request(0xdeadbeef000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(g.set_mtu(1500), 0);  // the guest drops the echo and carries on
    auto s = sw.port("a");
    EXPECT_GE(s["ctl_errors"], 8);
    EXPECT_TRUE(sw.running());
}

namespace {

// Times the switch's control thread (the main thread) has gone to sleep.
long sleeps_of_main_thread(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
    return -1;
}

}  // namespace

// With no requests, migrations or faults the control timer backs off from
// 1 ms to 16 ms: about 60 wake-ups a second instead of 1000. A request that
// comes then is still answered.
TEST_F(Control, AnIdleSwitchPollsForRequestsRarelyAndStillAnswersThem) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // 100 quiet ticks, then the doubling
    long before = sleeps_of_main_thread(sw.pid());
    ASSERT_GE(before, 0);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    long slept = sleeps_of_main_thread(sw.pid()) - before;
    EXPECT_LT(slept, 250) << "the control thread woke " << slept << " times in a second while idle";
    EXPECT_EQ(g.configure(true), 0);
    EXPECT_EQ(sw.port("a")["guest_state"], "up");
}
