// The library's use of an answer slot, against a fake daemon that grants one:
// repeated healthy answers go to the slot, every change goes as a message
// (so the daemon hears it at once), and a slot that is not safe to use is refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "client_recorder.h"
#include "fake_daemon.h"
#include "guest_heartbeat.h"

namespace ghbtest {
namespace {

struct ClientDeleter {
    void operator()(ghb_client* c) const { ghb_client_free(c); }
};
using ClientPtr = std::unique_ptr<ghb_client, ClientDeleter>;

class AnswerSlotClient : public ::testing::Test {
protected:
    void SetUp() override {
        daemon = std::make_unique<FakeDaemon>(dir.file("heartbeat.sock"));
        client = make_client();
    }

    ClientPtr make_client() {
        ghb_client* c = nullptr;
        auto cb = Recorder::callbacks();
        EXPECT_EQ(ghb_client_new(&c, &cb, &rec, daemon->path().c_str()), 0);
        return ClientPtr(c);
    }

    Pump pump() {
        ghb_client* c = client.get();
        return [c] { pump_client(c); };
    }

    void start_registration() {
        ghb_registration r{};
        r.application_name = "vnf-slot";
        r.heartbeat_interval_ms = 1000;
        r.corrective_action = GHB_ACTION_REBOOT;
        ASSERT_EQ(ghb_client_register(client.get(), &r, 0), 0);
    }

    // Sends a challenge and runs the client until its health callback has run.
    void challenge(int peer, uint64_t id) {
        int before = rec.health_checks;
        ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(id)));
        ASSERT_TRUE(run_until(client.get(), [&] { return rec.health_checks > before; }));
    }

    TempDir dir;
    std::unique_ptr<FakeDaemon> daemon;
    Recorder rec;
    ClientPtr client;
};

TEST_F(AnswerSlotClient, RepeatedHealthyAnswersGoToTheSlotAndEveryChangeAsAMessage) {
    start_registration();
    ipc::AnswerSlot* slot = nullptr;
    int peer = daemon->accept_registration_with_slot(&slot, true, pump());
    ASSERT_GE(peer, 0) << "the library asks for a slot by default";
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));

    challenge(peer, 7);
    EXPECT_EQ(ipc::read_answer(*slot).challenge_id, 7u);
    EXPECT_GT(ipc::read_answer(*slot).answered_at_ns, 0);
    EXPECT_FALSE(daemon->receive(peer, 200ms, pump())) << "a healthy answer went as a message";

    rec.healthy = false;
    rec.health_msg = "queue stuck";
    challenge(peer, 8);
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 8u);
    EXPECT_FALSE(msg->health().healthy());
    EXPECT_EQ(msg->health().log_msg(), "queue stuck");
    EXPECT_EQ(ipc::read_answer(*slot).challenge_id, 7u);

    // Healthy again: said once as a message, then through the slot.
    rec.healthy = true;
    challenge(peer, 9);
    msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 9u);
    EXPECT_TRUE(msg->health().healthy());
    challenge(peer, 10);
    EXPECT_EQ(ipc::read_answer(*slot).challenge_id, 10u);
    EXPECT_FALSE(daemon->receive(peer, 200ms, pump()));

    // Healthy with another corrective action than the registered one is a change too.
    rec.health_action = GHB_ACTION_STOP;
    challenge(peer, 11);
    msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().corrective_action(), ipc::ACTION_STOP);
    EXPECT_EQ(ipc::read_answer(*slot).challenge_id, 10u);
}

TEST_F(AnswerSlotClient, AnUnsealedSlotIsRefusedAndAnswersGoAsMessages) {
    start_registration();
    ipc::AnswerSlot* slot = nullptr;
    int peer = daemon->accept_registration_with_slot(&slot, false, pump());
    ASSERT_GE(peer, 0);
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));
    EXPECT_TRUE(rec.registrations[0].registered);
    challenge(peer, 3);
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 3u);
    EXPECT_EQ(ipc::read_answer(*slot).challenge_id, 0u);
}

TEST_F(AnswerSlotClient, TheEnvironmentCanTurnSlotsOff) {
    client.reset();
    ::setenv("GUEST_HEARTBEAT_ANSWER_SLOT", "0", 1);
    client = make_client();
    ::unsetenv("GUEST_HEARTBEAT_ANSWER_SLOT");
    start_registration();
    ipc::Register seen;
    ASSERT_GE(daemon->accept_registration(true, "", pump(), &seen), 0);
    EXPECT_FALSE(seen.answer_slot());
}

}  // namespace
}  // namespace ghbtest
