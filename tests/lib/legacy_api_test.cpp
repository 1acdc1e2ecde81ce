// The legacy guest_heartbeat_api_* layer end to end against a fake daemon,
// driven the way a legacy VNF drives it: selobj + dispatch.
#include <gtest/gtest.h>

#include <poll.h>
#include <cstring>
#include <string>
#include <vector>

#include "fake_daemon.h"
#include "guest_api_debug.h"
#include "guest_heartbeat_api.h"

namespace ghbtest {
namespace {

// The legacy callbacks carry no user pointer, so the test state is global.
struct LegacyState {
    std::vector<bool> states;
    int health_checks = 0;
    bool healthy = true;
    std::string msg;
    struct Notice {
        int id;
        GuestHeartbeatApiEventT event;
        GuestHeartbeatApiNotifyTypeT type;
    };
    std::vector<Notice> notices;
} g;

void on_state(bool state) { g.states.push_back(state); }
void on_health(bool* health, GuestHeartbeatApiActionT* action, char log_msg[]) {
    ++g.health_checks;
    *health = g.healthy;
    if (!g.healthy) *action = GUEST_HEARTBEAT_API_ACTION_LOG;
    snprintf(log_msg, GUEST_HEARTBEAT_API_LOG_MAX, "%s", g.msg.c_str());
}
void on_action(int id, GuestHeartbeatApiEventT event, GuestHeartbeatApiNotifyTypeT type) {
    g.notices.push_back({id, event, type});
}

void dispatch_if_ready() {
    int fd = guest_heartbeat_api_get_selobj();
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) guest_heartbeat_api_dispatch(fd);
}

bool dispatch_until(const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        pollfd p{guest_heartbeat_api_get_selobj(), POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) guest_heartbeat_api_dispatch(p.fd);
    }
    return true;
}

GuestHeartbeatApiInitDataT init_data(const char* name) {
    GuestHeartbeatApiInitDataT d;
    std::memset(&d, 0, sizeof d);
    std::snprintf(d.application_name, sizeof d.application_name, "%s", name);
    d.heartbeat_interval_ms = 1000;
    d.vote_secs = 8;
    d.shutdown_notice_secs = 5;
    d.suspend_notice_secs = 5;
    d.resume_notice_secs = 5;
    d.corrective_action = GUEST_HEARTBEAT_API_ACTION_REBOOT;
    return d;
}

class LegacyApiTest : public ::testing::Test {
protected:
    void SetUp() override {
        g = LegacyState{};
        daemon = std::make_unique<FakeDaemon>(dir.file("heartbeat.sock"));
        ::setenv("GUEST_HEARTBEAT_SOCKET", daemon->path().c_str(), 1);
        GuestHeartbeatApiCallbacksT cb{on_state, on_health, on_action};
        ASSERT_EQ(guest_heartbeat_api_initialize(&cb), GUEST_API_OKAY);
    }
    void TearDown() override {
        guest_heartbeat_api_finalize();
        ::unsetenv("GUEST_HEARTBEAT_SOCKET");
    }

    TempDir dir;
    std::unique_ptr<FakeDaemon> daemon;
};

TEST_F(LegacyApiTest, TypicalLifeOfALegacyVnf) {
    const int selobj = guest_heartbeat_api_get_selobj();
    ASSERT_GE(selobj, 0);
    auto data = init_data("legacy-vnf");
    ASSERT_EQ(guest_heartbeat_api_register(&data), GUEST_API_OKAY);
    // A loop ticking again before the answer arrives just asks again: no harm.
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_OKAY);
    ipc::Register seen;
    int peer = daemon->accept_registration(true, "", dispatch_if_ready, &seen);
    ASSERT_GE(peer, 0);
    EXPECT_EQ(seen.application_name(), "legacy-vnf");
    EXPECT_EQ(seen.corrective_action(), ipc::ACTION_REBOOT);
    ASSERT_TRUE(dispatch_until([] { return !g.states.empty(); }));
    EXPECT_TRUE(g.states[0]);

    g.healthy = false;
    g.msg = "license expired";
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::challenge(5)));
    auto msg = daemon->receive(peer, 5s, dispatch_if_ready);
    ASSERT_TRUE(msg && msg->has_health());
    EXPECT_EQ(msg->health().challenge_id(), 5u);
    EXPECT_FALSE(msg->health().healthy());
    EXPECT_EQ(msg->health().corrective_action(), ipc::ACTION_LOG);
    EXPECT_EQ(msg->health().log_msg(), "license expired");

    ASSERT_TRUE(daemon->send(peer, FakeDaemon::action(11, ipc::EVENT_REBOOT, ipc::NOTIFY_REVOCABLE, 5000)));
    ASSERT_TRUE(dispatch_until([] { return !g.notices.empty(); }));
    EXPECT_EQ(g.notices[0].id, 11);
    EXPECT_EQ(g.notices[0].event, GUEST_HEARTBEAT_API_EVENT_REBOOT);
    EXPECT_EQ(g.notices[0].type, GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE);
    char reason[] = "active calls";
    EXPECT_EQ(guest_heartbeat_api_send_action_response(11, GUEST_HEARTBEAT_API_EVENT_REBOOT,
                                                       GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE,
                                                       GUEST_HEARTBEAT_API_VOTE_RESULT_REJECT, reason),
              GUEST_API_OKAY);
    msg = daemon->receive(peer, 5s);
    ASSERT_TRUE(msg && msg->has_action_response());
    EXPECT_EQ(msg->action_response().vote_result(), ipc::VOTE_REJECT);
    EXPECT_EQ(msg->action_response().log_msg(), "active calls");
    char empty[] = "";
    EXPECT_EQ(guest_heartbeat_api_send_action_response(11, GUEST_HEARTBEAT_API_EVENT_REBOOT,
                                                       GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE,
                                                       GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT, empty),
              GUEST_API_FAILED)
        << "already answered";

    // The daemon goes away: register_state(false), and registering fails softly until it is back.
    daemon->stop();
    ASSERT_TRUE(dispatch_until([] { return g.states.size() == 2; }));
    EXPECT_FALSE(g.states[1]);
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_TRY_AGAIN);
    EXPECT_EQ(guest_heartbeat_api_get_selobj(), selobj);
    ASSERT_TRUE(daemon->listen());
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_OKAY);
    peer = daemon->accept_registration(true, "", dispatch_if_ready);
    ASSERT_GE(peer, 0);
    ASSERT_TRUE(dispatch_until([] { return g.states.size() == 3; }));
    EXPECT_TRUE(g.states[2]);
    EXPECT_EQ(guest_heartbeat_api_get_selobj(), selobj);

    char bye[] = "shutting down";
    EXPECT_EQ(guest_heartbeat_api_deregister(bye), GUEST_API_OKAY);
    msg = daemon->receive(peer, 5s);
    ASSERT_TRUE(msg && msg->has_deregister());
    EXPECT_EQ(msg->deregister().log_msg(), "shutting down");
    EXPECT_EQ(guest_heartbeat_api_deregister(bye), GUEST_API_FAILED);
}

TEST_F(LegacyApiTest, RejectedRegistrationCallsRegisterStateFalse) {
    auto data = init_data("fast");
    data.heartbeat_interval_ms = 20;
    ASSERT_EQ(guest_heartbeat_api_register(&data), GUEST_API_OKAY);
    ASSERT_GE(daemon->accept_registration(false, "interval below 100 ms", dispatch_if_ready), 0);
    ASSERT_TRUE(dispatch_until([] { return !g.states.empty(); }));
    EXPECT_FALSE(g.states[0]);
}

TEST_F(LegacyApiTest, AcceptToANotificationIsSentAsComplete) {
    // Legacy VNFs answer every notice with ACCEPT; to an irrevocable one the
    // only answer that means anything is COMPLETE.
    auto data = init_data("legacy-vnf");
    ASSERT_EQ(guest_heartbeat_api_register(&data), GUEST_API_OKAY);
    int peer = daemon->accept_registration(true, "", dispatch_if_ready);
    ASSERT_GE(peer, 0);
    ASSERT_TRUE(daemon->send(peer, FakeDaemon::action(21, ipc::EVENT_STOP, ipc::NOTIFY_IRREVOCABLE, 5000)));
    ASSERT_TRUE(dispatch_until([] { return !g.notices.empty(); }));
    char empty[] = "";
    EXPECT_EQ(guest_heartbeat_api_send_action_response(21, GUEST_HEARTBEAT_API_EVENT_STOP,
                                                       GUEST_HEARTBEAT_API_NOTIFY_TYPE_IRREVOCABLE,
                                                       GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT, empty),
              GUEST_API_OKAY);
    auto msg = daemon->receive(peer, 5s);
    ASSERT_TRUE(msg && msg->has_action_response());
    EXPECT_EQ(msg->action_response().invocation_id(), 21);
    EXPECT_EQ(msg->action_response().vote_result(), ipc::VOTE_COMPLETE);
}

TEST_F(LegacyApiTest, RefusedForPermissionSaysSoInTheLogAndRegisterState) {
    auto data = init_data("intruder");
    ASSERT_EQ(guest_heartbeat_api_register(&data), GUEST_API_OKAY);
    ::setenv("GUEST_API_DEBUG_LOG", "stderr", 1);  // syslog by default
    testing::internal::CaptureStderr();
    int peer = daemon->accept_register_refusal(EACCES, "permission denied: uid 1000 is not allowed", dispatch_if_ready);
    ASSERT_GE(peer, 0);
    ASSERT_TRUE(dispatch_until([] { return !g.states.empty(); }));
    std::string out = testing::internal::GetCapturedStderr();
    ::unsetenv("GUEST_API_DEBUG_LOG");
    EXPECT_FALSE(g.states[0]);
    EXPECT_NE(out.find("(EACCES)"), std::string::npos) << out;
}

TEST_F(LegacyApiTest, DaemonNotRunningMeansTryAgain) {
    daemon->stop();
    auto data = init_data("legacy-vnf");
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_TRY_AGAIN);
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_TRY_AGAIN);
}

TEST_F(LegacyApiTest, BadCallsFailCleanly) {
    GuestHeartbeatApiCallbacksT cb{on_state, on_health, on_action};
    EXPECT_EQ(guest_heartbeat_api_initialize(&cb), GUEST_API_FAILED) << "already initialized";
    EXPECT_EQ(guest_heartbeat_api_register(nullptr), GUEST_API_FAILED);
    auto data = init_data("x");
    std::memset(data.application_name, 'a', sizeof data.application_name);  // no NUL
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_FAILED);
    data = init_data("");
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_FAILED);
    data = init_data("neg");
    data.vote_secs = -1;
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_FAILED);
    char none[] = "";
    EXPECT_EQ(guest_heartbeat_api_send_action_response(99, GUEST_HEARTBEAT_API_EVENT_STOP,
                                                       GUEST_HEARTBEAT_API_NOTIFY_TYPE_REVOCABLE,
                                                       GUEST_HEARTBEAT_API_VOTE_RESULT_ACCEPT, none),
              GUEST_API_FAILED);
    EXPECT_EQ(guest_heartbeat_api_deregister(none), GUEST_API_FAILED);
    guest_heartbeat_api_dispatch(-5);  // logged, ignored
    guest_heartbeat_api_dispatch(guest_heartbeat_api_get_selobj());
}

TEST(LegacyApiUninitialized, CallsBeforeInitializeFail) {
    EXPECT_EQ(guest_heartbeat_api_get_selobj(), -1);
    auto data = init_data("x");
    EXPECT_EQ(guest_heartbeat_api_register(&data), GUEST_API_FAILED);
    EXPECT_EQ(guest_heartbeat_api_finalize(), GUEST_API_FAILED);
    guest_heartbeat_api_dispatch(3);
    EXPECT_EQ(guest_heartbeat_api_initialize(nullptr), GUEST_API_FAILED);
    GuestHeartbeatApiCallbacksT partial{on_state, nullptr, on_action};
    EXPECT_EQ(guest_heartbeat_api_initialize(&partial), GUEST_API_FAILED);
    EXPECT_EQ(guest_heartbeat_api_get_selobj(), -1);
}

TEST(LegacyNames, StringsMatchTheProtocolNames) {
    EXPECT_STREQ(guest_heartbeat_api_action_str(GUEST_HEARTBEAT_API_ACTION_REBOOT), "reboot");
    EXPECT_STREQ(guest_heartbeat_api_event_str(GUEST_HEARTBEAT_API_EVENT_COLD_MIGRATE_BEGIN), "cold_migrate_begin");
    EXPECT_STREQ(guest_heartbeat_api_notify_str(GUEST_HEARTBEAT_API_NOTIFY_TYPE_IRREVOCABLE), "irrevocable");
    EXPECT_STREQ(guest_heartbeat_api_vote_result_str(GUEST_HEARTBEAT_API_VOTE_RESULT_COMPLETE), "complete");
    EXPECT_STREQ(guest_heartbeat_api_event_str(GUEST_HEARTBEAT_API_EVENT_MAX), "???");
    EXPECT_STREQ(guest_heartbeat_api_action_str(static_cast<GuestHeartbeatApiActionT>(-1)), "???");
    EXPECT_STREQ(guest_api_error_str(GUEST_API_TRY_AGAIN), "try-again");
}

TEST(LegacyDebug, LevelGatesTheMacros) {
    char name[] = "legacy-test";
    EXPECT_EQ(guest_api_debug_initialize(name), GUEST_API_OKAY);
    guest_api_debug_set_log_level(GUEST_API_DEBUG_LOG_LEVEL_INFO);
    EXPECT_TRUE(guest_api_debug_want_log(GUEST_API_DEBUG_LOG_LEVEL_ERROR));
    EXPECT_TRUE(guest_api_debug_want_log(GUEST_API_DEBUG_LOG_LEVEL_INFO));
    EXPECT_FALSE(guest_api_debug_want_log(GUEST_API_DEBUG_LOG_LEVEL_DEBUG));
    EXPECT_STREQ(guest_api_debug_log_level_str(GUEST_API_DEBUG_LOG_LEVEL_VERBOSE), "verbose");
    ::setenv("GUEST_API_DEBUG_LOG", "stderr", 1);
    testing::internal::CaptureStderr();
    DPRINTFI("visible %d", 1);
    DPRINTFD("hidden %d", 2);
    DPRINTFE("no arguments");
    std::string out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find("legacy-test["), std::string::npos) << out;
    EXPECT_NE(out.find("visible 1"), std::string::npos) << out;
    EXPECT_NE(out.find("no arguments"), std::string::npos) << out;
    EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
    ::unsetenv("GUEST_API_DEBUG_LOG");
    guest_api_debug_set_log_level(GUEST_API_DEBUG_LOG_LEVEL_ERROR);
    EXPECT_EQ(guest_api_debug_finalize(), GUEST_API_OKAY);
}

}  // namespace
}  // namespace ghbtest
