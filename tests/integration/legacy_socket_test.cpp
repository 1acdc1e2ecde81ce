// guest-heartbeatd's legacy stream socket, spoken to by the test suite's own
// client of the original framing (LegacyBinaryClient) and by a binary built
// on it (legacy_binary_app), with this test as the host.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "guest_fixture.h"
#include "legacy_binary_client.h"

using namespace gsdk::test;
using namespace std::chrono_literals;
using C = LegacyBinaryClient;

namespace {

constexpr uint32_t kActionReboot = 2, kActionStop = 3, kActionLog = 4;

class LegacySocket : public GuestFixture {
protected:
    // Connects and registers; the INIT_ACK's accepted field, or -1 if none came.
    int register_client(C& client, const std::string& name, uint32_t interval_ms, uint32_t action,
                        uint32_t vote_secs = 10) {
        if (!client.connect(legacy_socket())) return -1;
        if (!client.init(name, interval_ms, action, vote_secs)) return -1;
        auto ack = client.receive_type(C::kInitAck, 10s);
        return ack ? static_cast<int>(ack->word[0]) : -1;
    }

    Subprocess& start_binary(const std::string& name, int interval, uint32_t action) {
        apps.push_back(std::make_unique<Subprocess>());
        apps.back()->start({LEGACY_BINARY_APP, "--socket", legacy_socket(), "--name", name, "--interval",
                            std::to_string(interval), "--action", std::to_string(action), "--lifetime", "100"},
                           app_log(name));
        return *apps.back();
    }

    void SetUp() override {
        start_daemon();
        ASSERT_TRUE(handshake());
        ASSERT_TRUE(wait_for_path(legacy_socket(), 5s)) << read_file(daemon_log());
    }
};

// Answers the challenges of a set of clients, healthily, from its own thread.
class Answerer {
public:
    explicit Answerer(std::vector<std::unique_ptr<C>>& clients) : clients_(clients) {
        thread_ = std::thread([this] {
            while (!stop_)
                for (auto& c : clients_)
                    if (auto m = c->receive(5ms); m && m->type == C::kChallenge)
                        c->challenge_response(m->word[0], true, kActionReboot);
        });
    }
    ~Answerer() {
        stop_ = true;
        thread_.join();
    }

private:
    std::vector<std::unique_ptr<C>>& clients_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace

TEST_F(LegacySocket, ARegisteredBinaryIsChallengedWithinThirtyOneBitsAndListedHealthy) {
    std::vector<std::unique_ptr<C>> clients;
    clients.push_back(std::make_unique<C>());
    C& app = *clients[0];
    ASSERT_EQ(register_client(app, "legacy-a", 200, kActionReboot), 1) << read_file(daemon_log());
    for (int i = 0; i < 5; ++i) {
        auto c = app.receive_type(C::kChallenge, 5s);
        ASSERT_TRUE(c) << "challenge " << i;
        EXPECT_NE(c->word[0], 0u);
        EXPECT_LE(c->word[0], 0x7fffffffu);
        app.challenge_response(c->word[0], true, kActionReboot);
    }
    Answerer answerer(clients);
    auto r = challenge_until([](const auto& r) { return lists_application(r, "legacy-a", "healthy"); });
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_TRUE(is_healthy(r));
}

TEST_F(LegacySocket, AnUnhealthyAnswerReachesTheHostWithItsActionAndReason) {
    C app;
    ASSERT_EQ(register_client(app, "legacy-a", 200, kActionReboot), 1);
    // Answers every challenge: unhealthy, corrective action log.
    nlohmann::json r = nlohmann::json::object();
    for (int i = 0; i < 50 && !is_unhealthy(r); ++i) {
        if (auto c = app.receive_type(C::kChallenge, 2s))
            app.challenge_response(c->word[0], false, kActionLog, "disk full");
        if (auto answer = challenge(); !answer.is_null()) r = answer;
    }
    ASSERT_TRUE(is_unhealthy(r)) << r.dump();
    EXPECT_EQ(r["corrective_action"], "log");
    EXPECT_NE(r["log_msg"].get<std::string>().find("legacy-a: disk full"), std::string::npos) << r.dump();
}

TEST_F(LegacySocket, AHungBinaryIsReportedWithItsCorrectiveAction) {
    C app;
    ASSERT_EQ(register_client(app, "legacy-a", 200, kActionStop), 1);
    // It never answers.
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_EQ(r["corrective_action"], "stop");
    EXPECT_NE(r["log_msg"].get<std::string>().find("legacy-a: not answering health checks (hung)"), std::string::npos)
        << r.dump();
    EXPECT_TRUE(lists_application(r, "legacy-a", "hung")) << r.dump();
}

TEST_F(LegacySocket, ABinaryKilledWithSigkillIsAFailureWithItsCorrectiveAction) {
    Subprocess& app = start_binary("legacy-k", 200, kActionStop);
    ASSERT_TRUE(wait_for_text(app_log("legacy-k"), "legacy-k: registered", 10s)) << read_file(daemon_log());
    ASSERT_FALSE(challenge_until([](const auto& r) { return lists_application(r, "legacy-k", "healthy"); }).is_null());
    app.signal(SIGKILL);
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_EQ(r["corrective_action"], "stop");
    EXPECT_NE(r["log_msg"].get<std::string>().find("legacy-k: exited without deregistering"), std::string::npos)
        << r.dump();
    EXPECT_TRUE(lists_application(r, "legacy-k", "failed")) << r.dump();
}

TEST_F(LegacySocket, ARejectVoteVetoesTheActionAndNamesTheBinary) {
    C app;
    ASSERT_EQ(register_client(app, "legacy-v", 500, kActionReboot, 3), 1);
    send_action(4242, "stop", "revocable", 5000);
    auto notify = app.receive_type(C::kActionNotify, 10s);
    ASSERT_TRUE(notify) << read_file(daemon_log());
    EXPECT_LE(notify->word[0], 0x7fffffffu);
    EXPECT_EQ(notify->word[1], 1u);  // stop
    EXPECT_EQ(notify->word[2], 1u);  // revocable
    ASSERT_TRUE(app.action_response(notify->word[0], notify->word[1], notify->word[2], 2, "active calls"));
    std::optional<nlohmann::json> r;
    auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end) {
        r = host.receive_type("action_response", 1s);
        if (r && (*r)["invocation_id"] == 4242) break;
        if (auto c = app.receive(1ms); c && c->type == C::kChallenge)
            app.challenge_response(c->word[0], true, kActionReboot);
    }
    ASSERT_TRUE(r) << read_file(daemon_log());
    EXPECT_EQ((*r)["vote_result"], "reject");
    EXPECT_EQ((*r)["log_msg"], "rejected by legacy-v: active calls");
}

TEST_F(LegacySocket, FinalDeregistersAndAnotherInitOnTheSameConnectionRegistersAgain) {
    std::vector<std::unique_ptr<C>> clients;
    clients.push_back(std::make_unique<C>());
    C& app = *clients[0];
    ASSERT_EQ(register_client(app, "legacy-f", 200, kActionStop), 1);
    ASSERT_TRUE(app.final_("maintenance"));
    ASSERT_TRUE(wait_for_text(daemon_log(), "application legacy-f", 5s));
    ASSERT_TRUE(wait_for_text(daemon_log(), "deregistered: maintenance", 5s)) << read_file(daemon_log());
    // Gone cleanly: not a failure.
    auto r = challenge();
    EXPECT_TRUE(is_healthy(r)) << r.dump();
    EXPECT_FALSE(r.contains("applications") && r["applications"].contains("legacy-f")) << r.dump();
    // The connection stays; INIT on it registers again, and a repeated INIT
    // (another name) takes the place of the first without a failure.
    ASSERT_TRUE(app.init("legacy-f", 200, kActionStop));
    auto ack = app.receive_type(C::kInitAck, 10s);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->word[0], 1u);
    ASSERT_TRUE(app.init("legacy-g", 200, kActionStop));
    ack = app.receive_type(C::kInitAck, 10s);
    ASSERT_TRUE(ack) << read_file(daemon_log());
    EXPECT_EQ(ack->word[0], 1u);
    Answerer answerer(clients);
    r = challenge_until([](const auto& r) { return lists_application(r, "legacy-g", "healthy"); });
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_TRUE(is_healthy(r)) << r.dump();
    EXPECT_FALSE(r["applications"].contains("legacy-f")) << r.dump();
}

TEST_F(LegacySocket, ARefusedInitIsAnsweredAfterADelayNotOncePerResend) {
    C app;
    ASSERT_TRUE(app.connect(legacy_socket()));
    // Below the minimum interval, resent five times at once as sample apps do.
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(app.init("too-fast", 50, kActionReboot));
    auto first = app.receive_type(C::kInitAck, 10s);
    ASSERT_TRUE(first) << read_file(daemon_log());
    EXPECT_EQ(first->word[0], 0u);
    // The resends are one pending INIT: one more answer, then none.
    auto second = app.receive_type(C::kInitAck, 10s);
    ASSERT_TRUE(second) << read_file(daemon_log());
    EXPECT_EQ(second->word[0], 0u);
    EXPECT_FALSE(app.receive_type(C::kInitAck, 2500ms));
    EXPECT_FALSE(app.at_eof());  // refused for its interval, it may try again
    EXPECT_TRUE(wait_for_text(daemon_log(), "heartbeat interval 50 ms is below the minimum", 1s));
}

TEST_F(LegacySocket, GarbageAndBrokenFramesAreLoggedAndClosedWhileOthersAreServed) {
    std::vector<std::unique_ptr<C>> clients;
    clients.push_back(std::make_unique<C>());
    ASSERT_EQ(register_client(*clients[0], "legacy-good", 300, kActionReboot), 1);
    Answerer answerer(clients);
    ASSERT_FALSE(
        challenge_until([](const auto& r) { return lists_application(r, "legacy-good", "healthy"); }).is_null());

    C garbage;
    ASSERT_TRUE(garbage.connect(legacy_socket()));
    ASSERT_TRUE(garbage.send_raw("GET / HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(garbage.closed_by_daemon(10s));
    EXPECT_TRUE(wait_for_text(daemon_log(), "bad frame: bytes that are not a frame header", 5s))
        << read_file(daemon_log());

    // A frame cut short, then the next one: the reader finds no magic where it expects one.
    std::string header("FDFDA5A5\x02\x01\x00\x00\x01\x00\x00\x00\xe4\x00\x00\x00", 20);
    C cut;
    ASSERT_TRUE(cut.connect(legacy_socket()));
    ASSERT_TRUE(cut.send_raw(header + std::string(80, 'x')));
    ASSERT_TRUE(cut.init("legacy-cut", 300, kActionReboot));
    EXPECT_TRUE(cut.closed_by_daemon(10s));

    // Another version.
    std::string v3 = header;
    v3[8] = 3;
    C other_version;
    ASSERT_TRUE(other_version.connect(legacy_socket()));
    ASSERT_TRUE(other_version.send_raw(v3 + std::string(208, '\0')));
    EXPECT_TRUE(other_version.closed_by_daemon(10s));
    EXPECT_TRUE(wait_for_text(daemon_log(), "bad frame: frame version 3, expected 2", 5s));

    // A message only the daemon sends.
    std::string challenge_frame = header;
    challenge_frame[10] = 3;
    C wrong_way;
    ASSERT_TRUE(wrong_way.connect(legacy_socket()));
    ASSERT_TRUE(wrong_way.send_raw(challenge_frame + std::string(208, '\0')));
    EXPECT_TRUE(wrong_way.closed_by_daemon(10s));
    EXPECT_TRUE(wait_for_text(daemon_log(), "which only the daemon sends", 5s));

    // A partial frame, then the client goes: the loss is logged.
    {
        C partial;
        ASSERT_TRUE(partial.connect(legacy_socket()));
        ASSERT_TRUE(partial.send_raw(header + std::string(30, '\0')));
    }
    EXPECT_TRUE(wait_for_text(daemon_log(), "closed with a partial frame of 50 bytes; lost", 5s))
        << read_file(daemon_log());

    // The daemon still serves the good client (nothing failed) and new ones;
    // the list the host gets when the next one registers has both healthy.
    EXPECT_TRUE(is_healthy(challenge())) << read_file(daemon_log());
    C late;
    EXPECT_EQ(register_client(late, "legacy-late", 1000, kActionReboot), 1);
    auto r = challenge_until([](const auto& r) {
        return lists_application(r, "legacy-late", "healthy") && lists_application(r, "legacy-good", "healthy");
    });
    EXPECT_FALSE(r.is_null()) << read_file(daemon_log());
}

TEST_F(LegacySocket, MoreThanSixteenBinariesRegisterAtOnce) {
    constexpr int kCount = 24;
    std::vector<std::unique_ptr<C>> clients;
    for (int i = 0; i < kCount; ++i) {
        clients.push_back(std::make_unique<C>());
        ASSERT_EQ(register_client(*clients.back(), "legacy-" + std::to_string(i), 1000, kActionReboot), 1)
            << "client " << i << "\n"
            << read_file(daemon_log());
    }
    Answerer answerer(clients);
    auto r = challenge_until([](const auto& r) {
        if (!r.contains("applications")) return false;
        for (int i = 0; i < kCount; ++i)
            if (!lists_application(r, "legacy-" + std::to_string(i), "healthy")) return false;
        return true;
    });
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_TRUE(is_healthy(r));
}

TEST_F(LegacySocket, ALegacyBinaryAndAModernApplicationAreSupervisedSideBySide) {
    start_modern_apps("modern", 1, 200);
    start_binary("legacy-s", 200, kActionReboot);
    ASSERT_TRUE(wait_for_text(app_log("legacy-s"), "legacy-s: registered", 10s)) << read_file(daemon_log());
    auto r = challenge_until(
        [](const auto& r) { return lists_application(r, "legacy-s", "healthy") && r["applications"].size() >= 2; });
    ASSERT_FALSE(r.is_null()) << read_file(daemon_log());
    EXPECT_TRUE(is_healthy(r));
    // Both are in one registry: a name held by one is refused to the other.
    C twin;
    EXPECT_EQ(register_client(twin, "legacy-s", 1000, kActionReboot), 0);
    EXPECT_TRUE(wait_for_text(daemon_log(), "an application named legacy-s is already registered", 5s));
}

namespace {

constexpr gid_t kSocketGroup = 64101;
constexpr uid_t kStranger = 64104;

class LegacySocketAccess : public GuestFixture {
protected:
    void SetUp() override {
        // Only the daemon's own modes stand between a stranger and the socket.
        ::chmod(dir.path().c_str(), 0755);
    }
};

}  // namespace

TEST_F(LegacySocketAccess, TheLegacySocketHasTheModesOfOurOwn) {
    extra_config = "SOCKET_GROUP=64101\nALLOWED_GROUPS=64101\n";
    start_daemon();
    ASSERT_TRUE(wait_for_path(legacy_socket(), 5s));
    struct stat st;
    ASSERT_EQ(::stat(legacy_socket().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_gid, kSocketGroup);
}

TEST_F(LegacySocketAccess, APeerThatReachesTheSocketButIsNotAllowedIsAnsweredNoAndClosed) {
    // The socket's group may open the file but is not allowed: the daemon's
    // credential check on the connection decides.
    extra_config = "SOCKET_GROUP=64101\nALLOWED_GROUPS=64102\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    ASSERT_TRUE(wait_for_path(legacy_socket(), 5s));
    std::string out = run_in_child_as({kStranger, kSocketGroup, {}}, [&] {
        C client;
        if (!client.connect(legacy_socket())) return std::string("no connect: ") + std::strerror(errno);
        client.init("squatter", 1000, kActionStop);
        auto ack = client.receive_type(C::kInitAck, 10s);
        std::string result = ack ? "ack=" + std::to_string(ack->word[0]) : std::string("no ack");
        return result + (client.closed_by_daemon(10s) ? " closed" : " open");
    });
    EXPECT_EQ(out, "ack=0 closed");
    EXPECT_TRUE(wait_for_text(daemon_log(), "refused uid 64104 pid", 5s)) << read_file(daemon_log());
    auto r = challenge();
    EXPECT_TRUE(is_healthy(r)) << r.dump();
    EXPECT_FALSE(r.contains("applications") && r["applications"].contains("squatter")) << r.dump();
}

TEST_F(LegacySocketAccess, TheLegacySocketPathComesFromTheConfigFileUnlessTheCommandLineSetsIt) {
    // GuestFixture passes --legacy-socket; the config key alone moves it when that is absent.
    write_file(dir / "hb.conf", "INIT_DELAY_MS=0\nLEGACY_SOCKET=" + (dir / "from-config.sock") + "\n");
    daemon.start({GUEST_HEARTBEATD, "--listen", "unix:" + (dir / "hb.sock"), "--config", dir / "hb.conf",
                  "--socket-dir", dir.path()},
                 daemon_log());
    EXPECT_TRUE(wait_for_path(dir / "from-config.sock", 5s)) << read_file(daemon_log());
    C client;
    EXPECT_EQ(client.connect(dir / "from-config.sock"), true);
}

TEST_F(LegacySocketAccess, AUsersLegacyConnectionsMeetItsQuotas) {
    constexpr uid_t kAllowedUid = 64103;
    extra_config = "SOCKET_GROUP=64101\nALLOWED_UIDS=64103\nMAX_UNREGISTERED_PER_UID=2\n";
    start_daemon();
    ASSERT_TRUE(handshake());
    ASSERT_TRUE(wait_for_path(legacy_socket(), 5s));
    std::string out = run_in_child_as({kAllowedUid, kSocketGroup, {}}, [&] {
        C first, second, third;
        bool connected =
            first.connect(legacy_socket()) && second.connect(legacy_socket()) && third.connect(legacy_socket());
        if (!connected) return std::string("no connect: ") + std::strerror(errno);
        return std::string(third.closed_by_daemon(10s) ? "third closed" : "third open");
    });
    EXPECT_EQ(out, "third closed");
    EXPECT_TRUE(wait_for_text(daemon_log(), "closed a connection of uid 64103", 5s)) << read_file(daemon_log());
}
