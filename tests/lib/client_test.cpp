// The modern ghb_ API against a fake daemon over a real SOCK_SEQPACKET socket.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "client_recorder.h"
#include "fake_daemon.h"
#include "guest_heartbeat.h"

namespace ghbtest {
namespace {

struct ClientDeleter {
    void operator()(ghb_client* c) const { ghb_client_free(c); }
};
using ClientPtr = std::unique_ptr<ghb_client, ClientDeleter>;

ghb_registration registration(const char* name, ghb_action action = GHB_ACTION_REBOOT) {
    ghb_registration r{};
    r.application_name = name;
    r.heartbeat_interval_ms = 1000;
    r.vote_secs = 8;
    r.shutdown_notice_secs = 5;
    r.suspend_notice_secs = 6;
    r.resume_notice_secs = 7;
    r.corrective_action = action;
    return r;
}

class ClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        daemon = std::make_unique<FakeDaemon>(dir.file("heartbeat.sock"));
        client = make_client(&rec);
    }

    ClientPtr make_client(Recorder* r) {
        ghb_client* c = nullptr;
        auto cb = Recorder::callbacks();
        EXPECT_EQ(ghb_client_new(&c, &cb, r, daemon->path().c_str()), 0);
        return ClientPtr(c);
    }

    Pump pump() {
        ghb_client* c = client.get();
        return [c] { pump_client(c); };
    }

    // Registers the fixture's client and returns the daemon's end.
    int register_client(const char* name = "vnf-a") {
        auto reg = registration(name);
        EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
        int peer = daemon->accept_registration(true, "", pump());
        EXPECT_GE(peer, 0);
        EXPECT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));
        return peer;
    }

    TempDir dir;
    std::unique_ptr<FakeDaemon> daemon;
    Recorder rec;
    ClientPtr client;
};

TEST_F(ClientTest, RegisterIsAcceptedAndCarriesTheRegistration) {
    auto reg = registration("vnf-a", GHB_ACTION_STOP);
    ASSERT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), -EALREADY);
    ipc::Register seen;
    int peer = daemon->accept_registration(true, "", pump(), &seen);
    ASSERT_GE(peer, 0);
    EXPECT_EQ(seen.application_name(), "vnf-a");
    EXPECT_EQ(seen.heartbeat_interval_ms(), 1000u);
    EXPECT_EQ(seen.vote_secs(), 8u);
    EXPECT_EQ(seen.shutdown_notice_secs(), 5u);
    EXPECT_EQ(seen.suspend_notice_secs(), 6u);
    EXPECT_EQ(seen.resume_notice_secs(), 7u);
    EXPECT_EQ(seen.corrective_action(), ipc::ACTION_STOP);
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));
    EXPECT_TRUE(rec.registrations[0].registered);
    EXPECT_EQ(ghb_client_is_registered(client.get()), 1);
}

TEST_F(ClientTest, RejectionReportsTheDaemonsReasonAndDoesNotRetry) {
    auto reg = registration("vnf-a");
    reg.heartbeat_interval_ms = 50;  // the daemon decides; the library passes it on
    ASSERT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
    ASSERT_GE(daemon->accept_registration(false, "interval 50 ms is below the minimum 100 ms", pump()), 0);
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));
    EXPECT_FALSE(rec.registrations[0].registered);
    EXPECT_EQ(rec.registrations[0].reason, "interval 50 ms is below the minimum 100 ms");
    EXPECT_EQ(ghb_client_is_registered(client.get()), 0);
    EXPECT_LT(daemon->accept(300ms, pump()), 0) << "a rejected client must not reconnect by itself";
    // The application may fix its registration and try again.
    reg.heartbeat_interval_ms = 200;
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
    EXPECT_GE(daemon->accept_registration(true, "", pump()), 0);
    ASSERT_TRUE(run_until(client.get(), [&] { return rec.registrations.size() == 2; }));
    EXPECT_TRUE(rec.registrations[1].registered);
}

TEST_F(ClientTest, ChallengeIsAnsweredFromTheHealthCallback) {
    int peer = register_client();
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(42)));
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 42u);
    EXPECT_TRUE(msg->health().healthy());
    EXPECT_EQ(msg->health().corrective_action(), ipc::ACTION_REBOOT);  // preset to the registered one
    EXPECT_EQ(msg->health().log_msg(), "");

    rec.healthy = false;
    rec.health_action = GHB_ACTION_STOP;
    rec.health_msg = "database unreachable";
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(43)));
    msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 43u);
    EXPECT_FALSE(msg->health().healthy());
    EXPECT_EQ(msg->health().corrective_action(), ipc::ACTION_STOP);
    EXPECT_EQ(msg->health().log_msg(), "database unreachable");
    EXPECT_EQ(rec.health_checks, 2);
}

TEST_F(ClientTest, LongHealthMessageIsCutToTheLimit) {
    int peer = register_client();
    rec.healthy = false;
    rec.health_msg = std::string(500, 'x');
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(1)));
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().log_msg().size(), static_cast<size_t>(GHB_LOG_MAX - 1));
}

TEST_F(ClientTest, VoteIsAnsweredFromTheCallbackWithTheReason) {
    int peer = register_client();
    rec.vote_now = GHB_VOTE_REJECT;
    rec.vote_msg = "active calls";
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::action(7, ipc::EVENT_STOP, ipc::NOTIFY_REVOCABLE, 5000)));
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_action_response());
    const auto& r = msg->action_response();
    EXPECT_EQ(r.invocation_id(), 7);
    EXPECT_EQ(r.event(), ipc::EVENT_STOP);
    EXPECT_EQ(r.notify_type(), ipc::NOTIFY_REVOCABLE);
    EXPECT_EQ(r.vote_result(), ipc::VOTE_REJECT);
    EXPECT_EQ(r.log_msg(), "active calls");
    ASSERT_EQ(rec.notices.size(), 1u);
    EXPECT_EQ(rec.notices[0].event, GHB_EVENT_STOP);
    EXPECT_EQ(rec.notices[0].notify_type, GHB_NOTIFY_REVOCABLE);
    EXPECT_EQ(rec.notices[0].timeout_ms, 5000u);
    EXPECT_EQ(rec.respond_rc, 0);
}

TEST_F(ClientTest, NotificationIsAnsweredLaterAndOnlyOnce) {
    int peer = register_client();
    ASSERT_TRUE(
        daemon->send(peer, FakeDaemon::action(9, ipc::EVENT_LIVE_MIGRATE_BEGIN, ipc::NOTIFY_IRREVOCABLE, 10000)));
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.notices.empty(); }));
    EXPECT_EQ(ghb_client_respond(client.get(), 9, GHB_VOTE_ACCEPT, nullptr), -EINVAL)
        << "a notification is completed, not voted";
    EXPECT_EQ(ghb_client_respond(client.get(), 10, GHB_VOTE_COMPLETE, nullptr), -ENOENT);
    EXPECT_EQ(ghb_client_respond(client.get(), 9, GHB_VOTE_COMPLETE, "state saved"), 0);
    EXPECT_EQ(ghb_client_respond(client.get(), 9, GHB_VOTE_COMPLETE, nullptr), -ENOENT);
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_action_response());
    EXPECT_EQ(msg->action_response().invocation_id(), 9);
    EXPECT_EQ(msg->action_response().event(), ipc::EVENT_LIVE_MIGRATE_BEGIN);
    EXPECT_EQ(msg->action_response().vote_result(), ipc::VOTE_COMPLETE);
    EXPECT_EQ(msg->action_response().log_msg(), "state saved");
}

TEST_F(ClientTest, UnansweredNoticeExpiresAtItsTimeout) {
    int peer = register_client();
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::action(3, ipc::EVENT_PAUSE, ipc::NOTIFY_REVOCABLE, 200)));
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.notices.empty(); }));
    int left = ghb_client_next_timeout_ms(client.get());
    EXPECT_GE(left, 0);
    EXPECT_LE(left, 200);
    // The expiry is driven by the descriptor alone (the timerfd inside it).
    ASSERT_TRUE(run_until(client.get(), [&] { return ghb_client_next_timeout_ms(client.get()) == -1; }));
    EXPECT_EQ(ghb_client_respond(client.get(), 3, GHB_VOTE_ACCEPT, nullptr), -ENOENT);
}

TEST_F(ClientTest, DaemonRestartReportsLossThenReRegistersOnTheSameDescriptor) {
    int peer = register_client();
    const int fd = ghb_client_fd(client.get());
    daemon->stop();
    ASSERT_TRUE(run_until(client.get(), [&] { return rec.registrations.size() == 2; }));
    EXPECT_FALSE(rec.registrations[1].registered);
    EXPECT_FALSE(rec.registrations[1].reason.empty());
    EXPECT_EQ(ghb_client_is_registered(client.get()), 0);
    EXPECT_EQ(ghb_client_fd(client.get()), fd);
    // Let a few reconnect attempts fail before the daemon comes back.
    run_until(
        client.get(), [] { return false; }, 300ms);
    ASSERT_TRUE(daemon->listen());
    ipc::Register seen;
    peer = daemon->accept_registration(true, "", pump(), &seen);
    ASSERT_GE(peer, 0);
    EXPECT_EQ(seen.application_name(), "vnf-a");
    ASSERT_TRUE(run_until(client.get(), [&] { return rec.registrations.size() == 3; }));
    EXPECT_TRUE(rec.registrations[2].registered);
    EXPECT_EQ(ghb_client_fd(client.get()), fd);
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(77)));
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 77u);
}

TEST_F(ClientTest, RegisterBeforeTheDaemonStartsConnectsWhenItComes) {
    daemon->stop();
    auto reg = registration("early-bird");
    ASSERT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
    EXPECT_GE(ghb_client_next_timeout_ms(client.get()), 0) << "a reconnect must be scheduled";
    run_until(
        client.get(), [] { return false; }, 200ms);
    EXPECT_TRUE(rec.registrations.empty());
    ASSERT_TRUE(daemon->listen());
    ASSERT_GE(daemon->accept_registration(true, "", pump()), 0);
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));
    EXPECT_TRUE(rec.registrations[0].registered);
}

TEST_F(ClientTest, RegisterOnceFailsWhileTheDaemonIsAway) {
    daemon->stop();
    auto reg = registration("vnf-a");
    int rc = ghb_client_register(client.get(), &reg, GHB_REGISTER_ONCE);
    EXPECT_TRUE(rc == -ENOENT || rc == -ECONNREFUSED) << rc;
    EXPECT_EQ(ghb_client_next_timeout_ms(client.get()), -1);
}

TEST_F(ClientTest, ARefusalForPermissionIsReportedAsEACCES) {
    auto reg = registration("intruder");
    ASSERT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
    ASSERT_GE(daemon->accept_register_refusal(EACCES, "permission denied: uid 1000 is not allowed", pump()), 0);
    ASSERT_TRUE(run_until(client.get(), [&] { return !rec.registrations.empty(); }));
    EXPECT_FALSE(rec.registrations[0].registered);
    EXPECT_NE(rec.registrations[0].reason.find("permission denied"), std::string::npos);
    EXPECT_EQ(ghb_client_is_registered(client.get()), -EACCES);
    EXPECT_LT(daemon->accept(300ms, pump()), 0) << "a refusal is final: no reconnect";
    // Registering again starts afresh.
    ASSERT_EQ(ghb_client_register(client.get(), &reg, 0), 0);
    EXPECT_EQ(ghb_client_is_registered(client.get()), 0);
}

TEST_F(ClientTest, DeregisterSaysGoodbyeAndCloses) {
    int peer = register_client();
    EXPECT_EQ(ghb_client_deregister(client.get(), "maintenance"), 0);
    auto msg = daemon->receive(peer, 5s);
    ASSERT_TRUE(msg && msg->has_deregister());
    EXPECT_EQ(msg->deregister().log_msg(), "maintenance");
    EXPECT_TRUE(daemon->wait_closed(peer, 5s));
    EXPECT_EQ(ghb_client_is_registered(client.get()), 0);
    EXPECT_EQ(ghb_client_deregister(client.get(), nullptr), -ENOTCONN);
    EXPECT_LT(daemon->accept(300ms, pump()), 0) << "no reconnect after a deregister";
}

TEST_F(ClientTest, DeregisterArrivesEvenWithAChallengeUnread) {
    int peer = register_client();
    // The challenge sits unread in the client's queue when it says goodbye;
    // the daemon must still read the Deregister, not a connection reset.
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(1)));
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(2)));
    EXPECT_EQ(ghb_client_deregister(client.get(), "bye"), 0);
    auto msg = daemon->receive(peer, 5s);
    ASSERT_TRUE(msg && msg->has_deregister());
    EXPECT_EQ(msg->deregister().log_msg(), "bye");
}

TEST_F(ClientTest, FreeWithoutDeregisterLooksLikeACrashToTheDaemon) {
    int peer = register_client();
    client.reset();
    EXPECT_TRUE(daemon->wait_closed(peer, 5s));
}

TEST_F(ClientTest, SeveralClientsInOneProcessAreIndependent) {
    constexpr int kClients = 6;
    std::vector<Recorder> recs(kClients);
    std::vector<ClientPtr> clients;
    std::vector<int> peers;
    std::set<int> fds;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(make_client(&recs[i]));
        std::string name = "app-" + std::to_string(i);
        auto reg = registration(name.c_str());
        ASSERT_EQ(ghb_client_register(clients[i].get(), &reg, 0), 0);
        ipc::Register seen;
        ghb_client* c = clients[i].get();
        peers.push_back(daemon->accept_registration(
            true, "", [c] { pump_client(c); }, &seen));
        ASSERT_GE(peers.back(), 0);
        EXPECT_EQ(seen.application_name(), name);
        fds.insert(ghb_client_fd(c));
    }
    EXPECT_EQ(fds.size(), static_cast<size_t>(kClients));
    auto pump_all = [&] {
        for (auto& c : clients)
            if (c) pump_client(c.get());
    };
    recs[2].healthy = false;
    for (int i = 0; i < kClients; ++i) ASSERT_TRUE(daemon->send(peers[i], FakeDaemon::challenge(100 + i)));
    for (int i = 0; i < kClients; ++i) {
        auto msg = daemon->receive(peers[i], 5s, pump_all);
        ASSERT_TRUE(msg && msg->has_health()) << i;
        EXPECT_EQ(msg->health().challenge_id(), static_cast<uint64_t>(100 + i));
        EXPECT_EQ(msg->health().healthy(), i != 2);
    }
    clients[4].reset();
    EXPECT_TRUE(daemon->wait_closed(peers[4], 5s, pump_all));
    ASSERT_TRUE(daemon->send(peers[5], FakeDaemon::challenge(500)));
    auto msg = daemon->receive(peers[5], 5s, pump_all);
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 500u);
    for (int i = 0; i < kClients; ++i) {
        if (i == 4) continue;
        EXPECT_EQ(recs[i].registrations.size(), 1u) << i;
    }
}

TEST_F(ClientTest, BadArgumentsAreRefusedWithErrno) {
    ghb_client* c = nullptr;
    EXPECT_EQ(ghb_client_new(nullptr, nullptr, nullptr, nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_new(&c, nullptr, nullptr, std::string(200, 'p').c_str()), -ENAMETOOLONG);
    EXPECT_EQ(c, nullptr);
    EXPECT_EQ(ghb_client_register(nullptr, nullptr, 0), -EINVAL);
    EXPECT_EQ(ghb_client_register(client.get(), nullptr, 0), -EINVAL);
    auto reg = registration("");
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), -EINVAL);
    std::string forty(40, 'n');
    reg = registration(forty.c_str());
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), -EINVAL);
    reg = registration("ok");
    reg.application_name = nullptr;
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), -EINVAL);
    reg = registration("ok");
    reg.heartbeat_interval_ms = 0;
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), -EINVAL);
    reg = registration("ok");
    int out_of_range = 99;  // what a C caller can put in an enum field
    std::memcpy(&reg.corrective_action, &out_of_range, sizeof out_of_range);
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0), -EINVAL);
    reg = registration("ok");
    EXPECT_EQ(ghb_client_register(client.get(), &reg, 0x10), -EINVAL);
    EXPECT_EQ(ghb_client_respond(client.get(), 1, static_cast<ghb_vote_result>(99), nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_respond(client.get(), 1, GHB_VOTE_ACCEPT, nullptr), -ENOENT);
    EXPECT_EQ(ghb_client_respond(nullptr, 1, GHB_VOTE_ACCEPT, nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_fd(nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_process(nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_next_timeout_ms(nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_is_registered(nullptr), -EINVAL);
    EXPECT_EQ(ghb_client_deregister(nullptr, nullptr), -EINVAL);
    ghb_client_free(nullptr);
    EXPECT_STREQ(ghb_event_str(static_cast<ghb_event>(1000)), "???");
    EXPECT_STREQ(ghb_event_str(GHB_EVENT_LIVE_MIGRATE_END), "live_migrate_end");
    EXPECT_EQ(ghb_client_process(client.get()), 0) << "processing an idle client is harmless";
}

TEST_F(ClientTest, MalformedOrOversizedDatagramsAreDroppedAndTheClientCarriesOn) {
    int peer = register_client();
    ASSERT_TRUE(daemon->send_raw(peer, std::string("\xff\xff\xff\xff\x0f garbage", 13)));
    ASSERT_TRUE(daemon->send_raw(peer, std::string(70 * 1024, 'x')));
    // Well-formed protobuf, but a field number this protocol does not have.
    ASSERT_TRUE(daemon->send_raw(peer, std::string("\xf8\x06\x01", 3)));
    // A notice with a notify type that does not exist, and an out-of-place register_result.
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::action(5, ipc::EVENT_STOP, static_cast<ipc::NotifyType>(9), 1000)));
    ipc::DaemonMessage late;
    late.mutable_register_result()->set_accepted(false);
    ASSERT_TRUE(daemon->send(peer, late));
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(1234)));
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 1234u);
    EXPECT_TRUE(rec.notices.empty());
    EXPECT_EQ(rec.registrations.size(), 1u);
    EXPECT_EQ(ghb_client_is_registered(client.get()), 1);
}

TEST_F(ClientTest, ProcessFromItsOwnCallbackIsRefusedNotDeadlocked) {
    int peer = register_client();
    int inner_rc = 1;
    rec.in_health_check = [&](ghb_client* c) {
        inner_rc = ghb_client_process(c);
        ghb_client_is_registered(c);  // other calls are allowed inside a callback
    };
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(9)));
    auto msg = daemon->receive(peer, 5s, pump());
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(inner_rc, -EDEADLK);
}

TEST_F(ClientTest, SocketPathComesFromTheEnvironment) {
    ::setenv(GHB_SOCKET_ENV, daemon->path().c_str(), 1);
    ghb_client* c = nullptr;
    Recorder r;
    auto cb = Recorder::callbacks();
    ASSERT_EQ(ghb_client_new(&c, &cb, &r, nullptr), 0);
    ClientPtr owned(c);
    ::unsetenv(GHB_SOCKET_ENV);
    auto reg = registration("from-env");
    ASSERT_EQ(ghb_client_register(c, &reg, GHB_REGISTER_ONCE), 0);
    EXPECT_GE(daemon->accept_registration(true, "", [c] { pump_client(c); }), 0);
}

}  // namespace
}  // namespace ghbtest
