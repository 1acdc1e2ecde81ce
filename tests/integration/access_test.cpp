// Who may talk to guest-heartbeatd: a real daemon, and local programs that
// run as unprivileged users (forked children that drop to a uid/gid of the
// test's choosing; no account needs to exist).
#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "guest_api_debug.h"
#include "guest_fixture.h"
#include "guest_heartbeat.h"
#include "guest_heartbeat_api.h"
#include "raw_application.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

constexpr gid_t kSocketGroup = 64101;  // the socket's group
constexpr gid_t kVnfGroup = 64102;     // another allowed group
constexpr uid_t kAllowedUid = 64103;   // named in ALLOWED_UIDS
constexpr uid_t kStranger = 64104;
constexpr gid_t kStrangerGroup = 64105;

std::string access_config(const std::string& groups = "64101,64102") {
    return "SOCKET_GROUP=64101\nALLOWED_GROUPS=" + groups + "\nALLOWED_UIDS=64103\n";
}

// What the modern API tells an application that registers once.
std::string modern_register(const std::string& socket, const std::string& name) {
    struct Seen {
        bool done = false;
        bool registered = false;
        std::string reason;
    } seen;
    ghb_callbacks cb{};
    cb.registered = [](ghb_client*, bool registered, const char* reason, void* user) {
        auto* s = static_cast<Seen*>(user);
        s->done = true;
        s->registered = registered;
        s->reason = reason ? reason : "";
    };
    ghb_client* client = nullptr;
    if (ghb_client_new(&client, &cb, &seen, socket.c_str()) < 0) return "no client";
    ghb_registration reg{name.c_str(), 1000, 5, 5, 5, 5, GHB_ACTION_STOP};
    int rc = ghb_client_register(client, &reg, GHB_REGISTER_ONCE);
    auto end = std::chrono::steady_clock::now() + 5s;
    while (rc == 0 && !seen.done && std::chrono::steady_clock::now() < end) {
        pollfd p{ghb_client_fd(client), POLLIN, 0};
        ::poll(&p, 1, 50);
        ghb_client_process(client);
    }
    std::string out = "register=" + std::to_string(rc) + " registered=" + (seen.registered ? "1" : "0") +
                      " state=" + std::to_string(ghb_client_is_registered(client)) + " reason=" + seen.reason;
    ghb_client_free(client);
    return out;
}

// The legacy API, driven as a legacy VNF drives it.
std::vector<bool> g_legacy_states;
std::string legacy_register(const std::string& socket, const std::string& name) {
    ::setenv("GUEST_HEARTBEAT_SOCKET", socket.c_str(), 1);
    GuestHeartbeatApiCallbacksT cb{[](bool state) { g_legacy_states.push_back(state); },
                                   [](bool* health, GuestHeartbeatApiActionT*, char*) { *health = true; },
                                   [](int, GuestHeartbeatApiEventT, GuestHeartbeatApiNotifyTypeT) {}};
    if (guest_heartbeat_api_initialize(&cb) != GUEST_API_OKAY) return "no init";
    GuestHeartbeatApiInitDataT init{};
    std::snprintf(init.application_name, sizeof init.application_name, "%s", name.c_str());
    init.heartbeat_interval_ms = 1000;
    init.corrective_action = GUEST_HEARTBEAT_API_ACTION_STOP;
    GuestApiErrorT rc = guest_heartbeat_api_register(&init);
    auto end = std::chrono::steady_clock::now() + 5s;
    while (rc == GUEST_API_OKAY && g_legacy_states.empty() && std::chrono::steady_clock::now() < end) {
        pollfd p{guest_heartbeat_api_get_selobj(), POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) guest_heartbeat_api_dispatch(p.fd);
    }
    std::string out = std::string("register=") + guest_api_error_str(rc) + " state=" +
                      (g_legacy_states.empty()  ? "none"
                       : g_legacy_states.back() ? "1"
                                                : "0");
    guest_heartbeat_api_finalize();
    return out;
}

std::string raw_register(const std::string& socket, const std::string& name) {
    RawApplication app(socket);
    if (app.connect_error()) return std::string("connect=") + std::strerror(app.connect_error());
    auto r = app.register_as(name);
    if (!r) return "no answer";
    return std::string(r->accepted() ? "accepted" : "refused") + " error=" + std::to_string(r->error()) +
           " reason=" + r->reason();
}

std::size_t count_lines_with(const std::string& text, const std::vector<std::string>& needles) {
    std::size_t n = 0, start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        bool all = true;
        for (const auto& w : needles) all = all && line.find(w) != std::string::npos;
        n += all;
        start = end + 1;
    }
    return n;
}

class AccessControl : public GuestFixture {
protected:
    void SetUp() override {
        // The test directory holds the socket: open it up so that only the
        // daemon's own modes stand between a stranger and the socket.
        ::chmod(dir.path().c_str(), 0755);
    }
    std::string socket() const { return dir / "heartbeat.sock"; }
};

TEST_F(AccessControl, TheSocketAndItsDirectoryBelongToTheSocketGroup) {
    extra_config = access_config();
    start_daemon();
    struct stat st;
    ASSERT_EQ(::stat(socket().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_gid, kSocketGroup);
    ASSERT_EQ(::stat(dir.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0750u);
    EXPECT_EQ(st.st_gid, kSocketGroup);
}

TEST_F(AccessControl, WithoutTheGroupTheSocketIsRootOnlyAndTheLogSaysSo) {
    extra_config = "SOCKET_GROUP=no-such-group-gsdk\n";
    start_daemon();
    struct stat st;
    ASSERT_EQ(::stat(socket().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_TRUE(wait_for_text(daemon_log(), "group no-such-group-gsdk does not exist", 2s)) << read_file(daemon_log());
    std::string out = run_in_child_as({kStranger, kStrangerGroup, {}}, [&] { return modern_register(socket(), "x"); });
    EXPECT_NE(out.find("register=-13 "), std::string::npos) << out;
}

TEST_F(AccessControl, AStrangerCannotReachTheSocketAndBothApisSayEACCES) {
    extra_config = access_config();
    start_daemon();
    ASSERT_TRUE(handshake());
    Identity stranger{kStranger, kStrangerGroup, {}};
    std::string modern = run_in_child_as(stranger, [&] { return modern_register(socket(), "squatter"); });
    EXPECT_NE(modern.find("register=-13 "), std::string::npos) << modern;
    std::string legacy = run_in_child_as(stranger, [&] { return legacy_register(socket(), "squatter"); });
    EXPECT_NE(legacy.find("register=failed"), std::string::npos) << legacy;
    auto r = challenge();
    EXPECT_TRUE(is_healthy(r));
    EXPECT_FALSE(lists_application(r, "squatter", "healthy")) << r.dump();
}

TEST_F(AccessControl, APeerThatReachesTheSocketButIsNotAllowedIsRefusedWithEACCES) {
    // The socket's group is not among the allowed ones: the daemon's own
    // credential check, not the file mode, must turn the peer away.
    extra_config = access_config("64102");
    start_daemon();
    ASSERT_TRUE(handshake());
    Identity intruder{kStranger, kSocketGroup, {}};
    std::string raw = run_in_child_as(intruder, [&] {
        std::string first = raw_register(socket(), "squatter");
        for (int i = 0; i < 5; ++i) raw_register(socket(), "squatter");
        return first;
    });
    EXPECT_NE(raw.find("refused error=13 "), std::string::npos) << raw;
    EXPECT_NE(raw.find("permission denied"), std::string::npos) << raw;
    std::string modern = run_in_child_as(intruder, [&] { return modern_register(socket(), "squatter"); });
    EXPECT_NE(modern.find("register=0 registered=0 state=-13 "), std::string::npos) << modern;
    EXPECT_NE(modern.find("permission denied"), std::string::npos) << modern;
    std::string legacy = run_in_child_as(intruder, [&] { return legacy_register(socket(), "squatter"); });
    EXPECT_NE(legacy.find("state=0"), std::string::npos) << legacy;

    auto r = challenge();
    EXPECT_TRUE(is_healthy(r)) << r.dump();
    EXPECT_FALSE(lists_application(r, "squatter", "healthy")) << r.dump();
    // Seven refusals within moments: one line names uid, pid and why; the
    // rest are counted, not written.
    std::string log = read_file(daemon_log());
    EXPECT_GE(count_lines_with(log, {"refused", "uid 64104", "pid ", "not allowed"}), 1u) << log;
    EXPECT_LE(count_lines_with(log, {"refused", "uid 64104"}), 3u) << log;
}

TEST_F(AccessControl, AllowedUidsAndMembersOfAllowedGroupsRegister) {
    extra_config = access_config();
    start_daemon();
    ASSERT_TRUE(handshake());
    std::string by_uid =
        run_in_child_as({kAllowedUid, kStrangerGroup, {}}, [&] { return modern_register(socket(), "by-uid"); });
    EXPECT_NE(by_uid.find("registered=1"), std::string::npos) << by_uid;
    std::string by_group = run_in_child_as({kStranger, kStrangerGroup, {kVnfGroup}},
                                           [&] { return modern_register(socket(), "by-group"); });
    EXPECT_NE(by_group.find("registered=1"), std::string::npos) << by_group;
    std::string by_socket_group =
        run_in_child_as({kStranger, kSocketGroup, {}}, [&] { return raw_register(socket(), "by-socket-group"); });
    EXPECT_NE(by_socket_group.find("accepted"), std::string::npos) << by_socket_group;
}

TEST_F(AccessControl, ANameHeldByAnotherUserCannotBeTakenOver) {
    extra_config = access_config();
    start_daemon();
    ASSERT_TRUE(handshake());
    RawApplication owner(socket());
    auto mine = owner.register_as("vnf-a", gsdk::test::ipc::ACTION_STOP);
    ASSERT_TRUE(mine && mine->accepted());
    std::string theft =
        run_in_child_as({kAllowedUid, kStrangerGroup, {}}, [&] { return raw_register(socket(), "vnf-a"); });
    EXPECT_NE(theft.find("refused"), std::string::npos) << theft;
    EXPECT_NE(theft.find("belongs to another user"), std::string::npos) << theft;
    // The same user keeps today's rule: one live registration per name.
    RawApplication again(socket());
    auto second = again.register_as("vnf-a");
    ASSERT_TRUE(second);
    EXPECT_FALSE(second->accepted());
    EXPECT_NE(second->reason().find("already registered"), std::string::npos) << second->reason();
    auto r = challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); });
    EXPECT_FALSE(r.is_null());
}

TEST_F(AccessControl, TheScriptsNamesAreReserved) {
    start_daemon();
    ASSERT_TRUE(handshake());
    for (const char* name : {"event-script", "health-script"}) {
        RawApplication app(socket());
        auto r = app.register_as(name);
        ASSERT_TRUE(r) << name;
        EXPECT_FALSE(r->accepted()) << name;
        EXPECT_NE(r->reason().find("reserved"), std::string::npos) << r->reason();
    }
}

TEST_F(AccessControl, RegistrationsPerUidAreCappedAndRootIsExempt) {
    extra_config = access_config() + "MAX_REGISTRATIONS_PER_UID=3\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    std::string out = run_in_child_as({kAllowedUid, kStrangerGroup, {}}, [&] {
        std::vector<std::unique_ptr<RawApplication>> held;
        std::string seen;
        for (int i = 0; i < 5; ++i) {
            held.push_back(std::make_unique<RawApplication>(socket()));
            auto r = held.back()->register_as("app-" + std::to_string(i));
            seen += r ? (r->accepted() ? "A" : "R:" + r->reason() + ";") : "?";
        }
        return seen;
    });
    EXPECT_EQ(out.substr(0, 3), "AAA") << out;
    EXPECT_NE(out.find("R:"), std::string::npos) << out;
    EXPECT_NE(out.find("registrations per user"), std::string::npos) << out;
    EXPECT_TRUE(wait_for_text(daemon_log(), "uid 64103", 1s));
    std::vector<std::unique_ptr<RawApplication>> root_apps;
    for (int i = 0; i < 5; ++i) {
        root_apps.push_back(std::make_unique<RawApplication>(socket()));
        auto r = root_apps.back()->register_as("root-app-" + std::to_string(i));
        ASSERT_TRUE(r);
        EXPECT_TRUE(r->accepted()) << r->reason();
    }
}

TEST_F(AccessControl, IdleConnectionsPerUidAreCapped) {
    extra_config = access_config() + "MAX_UNREGISTERED_PER_UID=2\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    std::string out = run_in_child_as({kAllowedUid, kStrangerGroup, {}}, [&] {
        std::vector<std::unique_ptr<RawApplication>> idle;
        for (int i = 0; i < 5; ++i) idle.push_back(std::make_unique<RawApplication>(socket()));
        std::string seen;
        for (auto& c : idle) seen += c->closed_by_daemon(2s) ? "C" : "O";
        return seen;
    });
    EXPECT_EQ(std::count(out.begin(), out.end(), 'O'), 2) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), 'C'), 3) << out;
    EXPECT_TRUE(wait_for_text(daemon_log(), "unregistered connections", 1s)) << read_file(daemon_log());
}

}  // namespace
