// libguest_scale against the real guest-scaled (fake sysfs tree; the test
// plays server-groupd's service socket and so the host): subscribers are
// told the online CPUs and each operation, the first chooser picks the CPU
// to give up, the next takes over when it goes, and silence means the default.
#include <poll.h>

#include <cerrno>
#include <functional>

#include "guest_scale.h"
#include "scale_fixture.h"

namespace {

using gsdk::test::GuestScaleTest;
using gsdk::test::json;
using gsdk::test::kPatience;

// What a client was told, kept by its callbacks.
struct Seen {
    bool connected = false;
    int error = 0;
    std::string reason;
    bool chooser = false;
    std::vector<unsigned> online;
    std::vector<std::pair<gs_direction, unsigned>> scaled;
    std::string chosen_by;
    std::vector<uint64_t> questions;
    unsigned question_default = 0;
    unsigned question_timeout = 0;
    int answer = -1;  // what choose_cpu answers at once; -2: stay silent
    int answer_rc = 1;
    bool chooser_changed = false;
};

gs_callbacks callbacks() {
    gs_callbacks cb{};
    cb.connected = [](gs_client*, bool up, int error, bool chooser, const unsigned* online, size_t n,
                      const char* reason, void* user) {
        auto* s = static_cast<Seen*>(user);
        s->connected = up;
        s->error = error;
        s->reason = reason ? reason : "";
        s->chooser = chooser;
        s->online.assign(online, online + n);
    };
    cb.scaled = [](gs_client*, gs_direction d, unsigned cpu, const unsigned* online, size_t n, const char* by,
                   void* user) {
        auto* s = static_cast<Seen*>(user);
        s->scaled.emplace_back(d, cpu);
        s->online.assign(online, online + n);
        s->chosen_by = by;
    };
    cb.choose_cpu = [](gs_client* c, uint64_t id, const unsigned*, size_t, unsigned def, unsigned timeout, void* user) {
        auto* s = static_cast<Seen*>(user);
        s->questions.push_back(id);
        s->question_default = def;
        s->question_timeout = timeout;
        if (s->answer != -2) s->answer_rc = gs_client_answer_choice(c, id, s->answer);
    };
    cb.chooser_changed = [](gs_client*, bool chooser, void* user) {
        auto* s = static_cast<Seen*>(user);
        s->chooser = chooser;
        s->chooser_changed = true;
    };
    return cb;
}

// One application: a client driven the way an application's loop drives it.
struct App {
    App(const std::string& socket, bool chooser) {
        gs_callbacks cb = callbacks();
        rc = gs_client_new(&client, &cb, &seen, socket.c_str(), chooser);
    }
    ~App() { gs_client_free(client); }
    // Polls and processes until `done` or kPatience has passed.
    bool until(const std::function<bool()>& done) {
        auto end = std::chrono::steady_clock::now() + kPatience;
        while (!done()) {
            if (std::chrono::steady_clock::now() > end) return false;
            pollfd p{gs_client_fd(client), POLLIN, 0};
            int t = gs_client_next_timeout_ms(client);
            ::poll(&p, 1, t < 0 || t > 100 ? 100 : t);
            if (gs_client_process(client) < 0) return false;
        }
        return true;
    }
    bool connected() {
        return until([&] { return seen.connected; });
    }
    int rc = 0;
    gs_client* client = nullptr;
    Seen seen;
};

class LibraryTest : public GuestScaleTest {
protected:
    void SetUp() override {
        GuestScaleTest::SetUp();
        start_daemon();
    }
    // Sends a scale down and returns the response once `app` has processed
    // everything the daemon sent it before answering.
    json down_through(App& app, int64_t timeout_ms = 9000) {
        relay->deliver("scale-00000001", down(timeout_ms).dump());
        std::optional<std::pair<std::string, json>> reply;
        // The reply comes after the chooser's answer: keep the app's loop turning.
        auto end = std::chrono::steady_clock::now() + kPatience;
        while (!reply && std::chrono::steady_clock::now() < end) {
            app.until([] { return true; });
            pollfd p{gs_client_fd(app.client), POLLIN, 0};
            ::poll(&p, 1, 20);
            gs_client_process(app.client);
            reply = relay->next_send(std::chrono::milliseconds(20));
        }
        if (!reply) {
            ADD_FAILURE() << "no answer to the scale down";
            return {};
        }
        return reply->second;
    }
};

TEST_F(LibraryTest, ASubscriberIsToldTheOnlineCpusAndEachOperation) {
    App app(subscriber_socket(), false);
    ASSERT_EQ(app.rc, 0);
    ASSERT_TRUE(app.connected());
    EXPECT_EQ(app.seen.online, std::vector<unsigned>({0, 1, 2, 3}));
    EXPECT_FALSE(app.seen.chooser);
    EXPECT_EQ(gs_client_is_chooser(app.client), 0);

    json r = ask(down());
    ASSERT_EQ(r["result"], "success") << r;
    ASSERT_TRUE(app.until([&] { return app.seen.scaled.size() == 1; }));
    EXPECT_EQ(app.seen.scaled[0], std::make_pair(GS_SCALE_DOWN, 3u));
    EXPECT_EQ(app.seen.chosen_by, "default");
    EXPECT_EQ(app.seen.online, std::vector<unsigned>({0, 1, 2}));

    r = ask(up(3, {0, 1, 2}));
    ASSERT_EQ(r["result"], "success") << r;
    ASSERT_TRUE(app.until([&] { return app.seen.scaled.size() == 2; }));
    EXPECT_EQ(app.seen.scaled[1], std::make_pair(GS_SCALE_UP, 3u));
    unsigned cpus[8];
    EXPECT_EQ(gs_client_online_cpus(app.client, cpus, 8), 4);
    EXPECT_EQ(cpus[3], 3u);
}

TEST_F(LibraryTest, TheChoosersCpuGoesOfflineAndOthersAreTold) {
    App chooser(subscriber_socket(), true);
    App watcher(subscriber_socket(), false);
    ASSERT_TRUE(chooser.connected());
    ASSERT_TRUE(watcher.connected());
    EXPECT_TRUE(chooser.seen.chooser);
    chooser.seen.answer = 1;

    json r = down_through(chooser);
    EXPECT_EQ(r["result"], "success") << r;
    EXPECT_EQ(r["offline_cpu"], 1) << r;
    EXPECT_EQ(r["online_cpus"], json({0, 2, 3}));
    ASSERT_EQ(chooser.seen.questions.size(), 1u);
    EXPECT_EQ(chooser.seen.answer_rc, 0);
    EXPECT_EQ(chooser.seen.question_default, 3u);
    EXPECT_GT(chooser.seen.question_timeout, 0u);
    EXPECT_FALSE(tree->online(1));
    ASSERT_TRUE(watcher.until([&] { return !watcher.seen.scaled.empty(); }));
    EXPECT_EQ(watcher.seen.scaled[0], std::make_pair(GS_SCALE_DOWN, 1u));
    EXPECT_EQ(watcher.seen.chosen_by, "application");
    EXPECT_TRUE(watcher.seen.questions.empty());
}

TEST_F(LibraryTest, CpuZeroOrANoPreferenceAnswerGivesTheDefault) {
    App chooser(subscriber_socket(), true);
    ASSERT_TRUE(chooser.connected());
    // CPU 0 is refused at the boundary; -1 says "no preference".
    EXPECT_EQ(gs_client_answer_choice(chooser.client, 1, 0), -EINVAL);
    chooser.seen.answer = -1;
    json r = down_through(chooser);
    EXPECT_EQ(r["offline_cpu"], 3) << r;
    EXPECT_TRUE(tree->online(0));
}

TEST_F(LibraryTest, TheNextChooserTakesOverWhenTheFirstLeaves) {
    auto first = std::make_unique<App>(subscriber_socket(), true);
    ASSERT_TRUE(first->connected());
    App second(subscriber_socket(), true);
    ASSERT_TRUE(second.connected());
    EXPECT_TRUE(first->seen.chooser);
    EXPECT_FALSE(second.seen.chooser);
    first.reset();
    ASSERT_TRUE(second.until([&] { return second.seen.chooser_changed; }));
    EXPECT_TRUE(second.seen.chooser);
    EXPECT_EQ(gs_client_is_chooser(second.client), 1);
    second.seen.answer = 2;
    json r = down_through(second);
    EXPECT_EQ(r["offline_cpu"], 2) << r;
}

TEST_F(LibraryTest, ASilentChooserGetsTheDefaultAndItsLateAnswerIsRefused) {
    App chooser(subscriber_socket(), true);
    ASSERT_TRUE(chooser.connected());
    chooser.seen.answer = -2;  // silent
    json r = down_through(chooser, 1500);
    EXPECT_EQ(r["result"], "success") << r;
    EXPECT_EQ(r["offline_cpu"], 3) << r;
    ASSERT_EQ(chooser.seen.questions.size(), 1u);
    // Its time is up: the question is closed in the library too.
    ASSERT_TRUE(chooser.until([&] { return gs_client_next_timeout_ms(chooser.client) == -1; }));
    EXPECT_EQ(gs_client_answer_choice(chooser.client, chooser.seen.questions[0], 2), -ENOENT);
    EXPECT_TRUE(tree->online(2));
}

TEST_F(LibraryTest, BadArgumentsAreNegativeErrno) {
    gs_callbacks cb{};
    gs_client* c = nullptr;
    EXPECT_EQ(gs_client_new(nullptr, &cb, nullptr, nullptr, false), -EINVAL);
    EXPECT_EQ(gs_client_new(&c, &cb, nullptr, subscriber_socket().c_str(), true), -EINVAL);  // no choose_cpu
    EXPECT_EQ(gs_client_new(&c, &cb, nullptr, std::string(200, 'x').c_str(), false), -ENAMETOOLONG);
    EXPECT_EQ(gs_client_process(nullptr), -EINVAL);
    EXPECT_EQ(gs_client_fd(nullptr), -EINVAL);
    EXPECT_EQ(gs_client_answer_choice(nullptr, 1, 1), -EINVAL);
    App app(subscriber_socket(), false);
    EXPECT_EQ(gs_client_answer_choice(app.client, 1, -5), -EINVAL);
    EXPECT_EQ(gs_client_online_cpus(app.client, nullptr, 4), -EINVAL);
    ASSERT_TRUE(app.connected());
    EXPECT_EQ(gs_client_answer_choice(app.client, 77, 1), -ENOENT);  // never asked
}

TEST_F(LibraryTest, ReconnectsWhenGuestScaledRestarts) {
    App app(subscriber_socket(), false);
    ASSERT_TRUE(app.connected());
    stop_daemon();
    ASSERT_TRUE(app.until([&] { return !app.seen.connected; }));
    EXPECT_EQ(gs_client_is_connected(app.client), 0);
    EXPECT_EQ(gs_client_online_cpus(app.client, nullptr, 0), -ENOTCONN);
    start_daemon();
    ASSERT_TRUE(app.connected());
    EXPECT_EQ(app.seen.online, std::vector<unsigned>({0, 1, 2, 3}));
}

// Sockets of group 4242, members of group 4343 allowed (docs/security.md).
class LibraryAccessTest : public LibraryTest {
protected:
    void SetUp() override {
        extra_config = "SOCKET_GROUP=4242\nALLOWED_GROUPS=4343";
        LibraryTest::SetUp();
    }
    // What a subscriber run as `who` was told first: "connected ..." or
    // "refused rc=ERROR reason".
    std::string subscribe_as(const gsdk::test::Identity& who) {
        const std::string socket = subscriber_socket();
        return gsdk::test::run_in_child_as(who, [&socket] {
            App app(socket, false);
            if (app.rc < 0) return "no client: " + std::to_string(app.rc);
            if (!app.until([&] { return app.seen.connected || app.seen.error != 0; })) return std::string("no answer");
            if (app.seen.connected) return "connected " + std::to_string(app.seen.online.size()) + " online";
            return "refused rc=" + std::to_string(app.seen.error) + " " + app.seen.reason;
        });
    }
};

TEST_F(LibraryAccessTest, LocalUsersWhoAreNotAllowedAreRefusedWithTheCause) {
    const std::string refused = "refused rc=-" + std::to_string(EACCES) + " ";
    // Not in the socket's group: the socket's mode turns it away.
    std::string stranger = subscribe_as({65534, 65534, {}});
    EXPECT_EQ(stranger.rfind(refused, 0), 0u) << stranger;
    EXPECT_NE(stranger.find("not allowed: uid 65534 may not reach guest-scaled's socket"), std::string::npos)
        << stranger;
    // In the socket's group but not among the allowed: the daemon's own check, logged with the cause.
    std::string grouped = subscribe_as({4444, 4444, {4242}});
    EXPECT_EQ(grouped.rfind(refused, 0), 0u) << grouped;
    EXPECT_NE(grouped.find("uid 4444 is not root, not an allowed uid, and not a member of an allowed group"),
              std::string::npos)
        << grouped;
    EXPECT_TRUE(gsdk::test::wait_for_text(dir / "guest-scaled.log", "refused uid 4444 pid ", kPatience)) << log();
    // An allowed user subscribes and is told the online CPUs.
    EXPECT_EQ(subscribe_as({4545, 4545, {4242, 4343}}), "connected 4 online");
}

}  // namespace
