// Emulated live migration: detach, then attach with changed addresses.
#include <gtest/gtest.h>

#include <cerrno>
#include <future>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

struct Migration : ::testing::Test {
    SwitchProcess sw{{"--port", "a,profile=file,path=" + shm_path("a") + ",buffers=512", "--port",
                      "b,profile=legacy,path=" + tmp_path("sys") + ",buffers=512", "--pair", "a,b"}};
    TestGuest a{shm_path("a")};
    std::unique_ptr<TestGuest> b;
    void SetUp() override {
        ASSERT_TRUE(sw.ok()) << sw.log();
        b = std::make_unique<TestGuest>(sw.port("b").value("location", ""));
        ASSERT_EQ(a.load(), "");
        ASSERT_EQ(b->load(), "");
        ASSERT_EQ(a.configure(true), 0);
        ASSERT_EQ(b->configure(true), 0);
    }
    // What a driver does on a migration event, on its own thread.
    std::future<void> guest_follows(TestGuest& g, uint32_t state) {
        return std::async(std::launch::async, [&g, state] {
            if (!g.wait_status(state)) return;
            if (state == AVP_MIGRATION_DETACHED) {
                g.shutdown();
            } else {
                if (!g.load().empty()) return;
                g.configure(true);
            }
            g.ack(state);
        });
    }
};

}  // namespace

TEST_F(Migration, DetachAttachMovesAddressesAndTheGuestRetranslates) {
    for (TestGuest* g : {&a, b.get()}) {
        auto f = make_frame(1500, 1);
        ASSERT_TRUE((g == &a ? b.get() : &a)->send(f));
        auto got = g->receive();
        ASSERT_TRUE(got);
        EXPECT_EQ(got->bytes, f);
    }
    TestGuest old_view(shm_path("a"));
    ASSERT_EQ(old_view.load(), "");
    const avp_device_info before = a.info();
    const auto entries_before = a.entries();

    auto follower = guest_follows(a, AVP_MIGRATION_DETACHED);
    auto r = sw.ctl("migrate a detach 5000");
    follower.wait();
    ASSERT_TRUE(r.value("ok", false)) << r.dump();
    EXPECT_EQ(r["ack"], AVP_MIGRATION_DETACHED);
    EXPECT_EQ(sw.port("a")["guest_state"], "shutdown");
    EXPECT_FALSE(sw.port("a")["attached"]);

    // While detached, traffic towards a is dropped by the host.
    ASSERT_TRUE(b->send(make_frame(64, 2)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_GE(sw.port("a")["tx_drops"], 1);

    follower = guest_follows(a, AVP_MIGRATION_ATTACHED);
    r = sw.ctl("migrate a attach 5000");
    follower.wait();
    ASSERT_TRUE(r.value("ok", false)) << r.dump();
    EXPECT_EQ(r["ack"], AVP_MIGRATION_ATTACHED);

    const avp_device_info& after = a.info();
    EXPECT_NE(after.device_id, before.device_id);
    EXPECT_NE(after.pool[0].va, before.pool[0].va);
    EXPECT_NE(after.pool[0].phys, before.pool[0].phys);
    EXPECT_NE(after.sync_va, before.sync_va);
    ASSERT_EQ(a.entries().size(), entries_before.size());
    for (size_t i = 0; i < entries_before.size(); i++) {
        EXPECT_NE(a.entries()[i].host_va, entries_before[i].host_va);
        EXPECT_NE(a.entries()[i].host_phys, entries_before[i].host_phys);
    }
    // A guest that kept the old addresses is not served: its sync address is gone.
    uint64_t errors = sw.port("a")["ctl_errors"];
    EXPECT_NE(old_view.configure(true), std::optional<int32_t>(0));
    EXPECT_EQ(sw.port("a")["ctl_errors"], errors + 1);

    for (uint32_t seq = 10; seq < 20; seq++) {
        auto f = make_frame(seq % 2 ? 9000 : 64, seq);
        ASSERT_TRUE(b->send(f));
        auto got = a.receive();
        ASSERT_TRUE(got) << seq;
        EXPECT_EQ(got->bytes, f);
        ASSERT_TRUE(a.send(f));
        got = b->receive();
        ASSERT_TRUE(got) << seq;
        EXPECT_EQ(got->bytes, f);
    }
}

TEST_F(Migration, LegacyPortMigratesToo) {
    auto follower = guest_follows(*b, AVP_MIGRATION_DETACHED);
    ASSERT_TRUE(sw.ctl("migrate b detach 5000").value("ok", false));
    follower.wait();
    uint64_t old_id = b->info().device_id;
    follower = guest_follows(*b, AVP_MIGRATION_ATTACHED);
    ASSERT_TRUE(sw.ctl("migrate b attach 5000").value("ok", false));
    follower.wait();
    EXPECT_NE(b->info().device_id, old_id);
    auto f = make_frame(300, 3);
    ASSERT_TRUE(a.send(f));
    auto got = b->receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, f);
}

TEST_F(Migration, AGuestThatNeverAcknowledgesTimesOutWithAClearError) {
    auto r = sw.ctl("migrate a detach 200");
    ASSERT_FALSE(r.value("ok", true));
    EXPECT_NE(r["error"].get<std::string>().find("did not acknowledge detach within 200 ms"), std::string::npos)
        << r.dump();
    EXPECT_EQ(a.migration_status(), AVP_MIGRATION_DETACHED);
    // The host still moved on: the port is detached and can be attached.
    r = sw.ctl("migrate a attach 200");
    ASSERT_FALSE(r.value("ok", true));
    EXPECT_EQ(a.migration_status(), AVP_MIGRATION_ATTACHED);
    EXPECT_TRUE(sw.port("a")["attached"]);
    ASSERT_EQ(a.load(), "");
    ASSERT_EQ(a.configure(true), 0);
    ASSERT_TRUE(b->send(make_frame(64, 1)));
    EXPECT_TRUE(a.receive());
}

TEST_F(Migration, MigrationInterruptIsRaisedWhenTheGuestEnabledIt) {
    // The test guest polls status != ack; interrupt status is for guests that
    // unmasked interrupts (legacy BAR0 semantics).
    auto regs_path = sw.port("b").value("location", "") + "/resource0";
    FILE* f = std::fopen(regs_path.c_str(), "r+b");
    ASSERT_TRUE(f);
    uint32_t mask = AVP_INTERRUPTS_ALL;
    std::fseek(f, AVP_REG_INTERRUPT_MASK, SEEK_SET);
    std::fwrite(&mask, 4, 1, f);
    std::fflush(f);
    sw.ctl("migrate b detach 100");
    uint32_t status = 0;
    std::fseek(f, AVP_REG_INTERRUPT_STATUS, SEEK_SET);
    ASSERT_EQ(std::fread(&status, 4, 1, f), 1u);
    std::fclose(f);
    EXPECT_EQ(status & AVP_MIGRATION_INTERRUPT, AVP_MIGRATION_INTERRUPT);
}
