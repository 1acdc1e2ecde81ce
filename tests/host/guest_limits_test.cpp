// What a hostile or broken guest cannot do to vmhostd: unbounded numbers are
// clamped (no overflow, no endless vote), lists and texts are cut, a flood of
// garbage is rate-limited in the log and the event log, and one VM whose QEMU
// stopped accepting (SIGSTOP: full backlog) cannot stall the others.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <thread>

#include "host_fixture.h"

namespace hosttest {
namespace {

using CA = hb::CorrectiveAction;

class GuestLimits : public HostFixture {};

// These tests are about limits, not timing: a slow interval keeps a test
// thread that a loaded machine (or ASan parsing 1024 applications) holds up
// for a second from missing two challenges in a row.
constexpr int64_t kRelaxedIntervalMs = 2000;

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

TEST_F(GuestLimits, OutOfRangeTimesAreClampedAndReported) {
    hb::Init init{7, "huge", INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, CA::Reboot};
    guest->send(init);
    auto ack = guest->wait_for(is<hb::InitAck>());
    ASSERT_TRUE(ack) << daemon.log();
    // The vote carries the clamped vote time (3601 s), not an overflowed product.
    auto run = ctl_async({"action", "vm1", "pause", "--timeout", "60"});
    auto m = guest->wait_for(is<hb::ActionNotify>());
    ASSERT_TRUE(m) << daemon.log();
    auto notify = std::get<hb::ActionNotify>(m->body);
    EXPECT_EQ(notify.timeout_ms, 3601 * 1000);
    guest->respond(notify, hb::VoteResult::Reject, "rejected by app: not now");
    auto r = pump(run);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(daemon.running());
    auto vm = vm_status();
    EXPECT_EQ(vm["interval_ms"], 3600 * 1000);
    auto clamped = event_details("limit");
    std::string all;
    for (const auto& d : clamped) all += d + "\n";
    EXPECT_NE(all.find("vote_secs 9223372036854775807 out of range 0..3601, using 3601"), std::string::npos) << all;
    EXPECT_NE(all.find("restart_secs 9223372036854775807 out of range"), std::string::npos) << all;
    EXPECT_NE(all.find("heartbeat_interval_ms 9223372036854775807 out of range"), std::string::npos) << all;
    EXPECT_NE(daemon.log().find("vm1: limit: init values out of range clamped"), std::string::npos);
}

TEST_F(GuestLimits, ApplicationListsAndMessagesAreCut) {
    ASSERT_TRUE(guest->init(kRelaxedIntervalMs));
    std::vector<hb::ApplicationStatus> apps;
    for (int i = 0; i < 1500; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "app-%04d", i);
        apps.push_back({name, "healthy"});
    }
    apps.push_back({"0" + std::string(199, 'z'), std::string(100, 's')});  // sorts first
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, true, CA::Reboot, "", apps);
    ASSERT_TRUE(eventually([&] { return !vm_status()["applications"].empty(); }));
    auto vm = vm_status();
    EXPECT_EQ(vm["applications"].size(), 1024u);
    EXPECT_EQ(vm["applications_truncated"], true);
    auto cut = event_details("limit");
    ASSERT_EQ(cut.size(), 1u);
    EXPECT_EQ(cut[0],
              "applications list cut: 1501 applications listed, the first 1024 kept; 1 name(s) cut to 64 bytes");
    EXPECT_EQ(vm["applications"][0]["name"], "0" + std::string(63, 'z'));
    EXPECT_EQ(vm["applications"][0]["state"], std::string(16, 's'));
    EXPECT_EQ(vm["applications"][1]["name"], "app-0000");
    // An unhealthy report's text is kept to 512 bytes.
    c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, false, CA::None, std::string(5000, 'm'));
    ASSERT_TRUE(eventually([&] { return vm_status()["health"] == "unhealthy"; }));
    EXPECT_LE(vm_status()["health_message"].get<std::string>().size(), 512u);
}

TEST_F(GuestLimits, GarbageFloodIsRateLimitedInTheLogAndTheEventLog) {
    ASSERT_TRUE(guest->init(kRelaxedIntervalMs));
    auto start = std::chrono::steady_clock::now();
    std::string flood;
    for (int i = 0; i < 300; ++i) flood += "\n{not json " + std::to_string(i) + "\n";
    guest->send_raw(flood);
    // Keep a trickle going until a later line reports how many were held back.
    ASSERT_TRUE(eventually([&] {
        guest->send_raw("\n{still not json\n");
        guest->wait_for([](const hb::Message&) { return false; }, 100ms);
        return daemon.log().find("similar lines suppressed") != std::string::npos;
    })) << daemon.log();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    // One log line per second for this cause; a few kept events per second.
    std::size_t logged = count_of(daemon.log(), "vm1: protocol: unparsable line dropped");
    EXPECT_GE(logged, 2u);
    EXPECT_LE(logged, static_cast<std::size_t>(seconds) + 2) << daemon.log();
    std::size_t kept = event_details("protocol").size();
    EXPECT_LE(kept, 20u * (static_cast<std::size_t>(seconds) + 2));
    // The host's own history is still there.
    EXPECT_FALSE(event_details("supervise").empty());
}

// A UNIX socket whose owner never accepts (a stopped QEMU): its backlog is full.
class StuckSocket {
public:
    explicit StuckSocket(const std::string& path) {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        ::unlink(path.c_str());
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(listener_, 0) < 0)
            return;
        for (int i = 0; i < 64; ++i) {
            int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
                full_ = errno == EAGAIN;
                ::close(fd);
                return;
            }
            queued_.push_back(fd);
        }
    }
    ~StuckSocket() {
        for (int fd : queued_) ::close(fd);
        if (listener_ >= 0) ::close(listener_);
    }
    bool full() const { return full_; }

private:
    int listener_ = -1;
    std::vector<int> queued_;
    bool full_ = false;
};

class StoppedVm : public HostFixture {
protected:
    void SetUp() override {
        stuck_heartbeat = std::make_unique<StuckSocket>(dir.file("vm2.hb"));
        stuck_qmp = std::make_unique<StuckSocket>(dir.file("vm2.qmp"));
        ASSERT_TRUE(stuck_heartbeat->full() && stuck_qmp->full());
        guest = std::make_unique<FakeGuest>(dir.file("vm1.hb"));
        guest->listen();
        nlohmann::json config = {
            {"control_socket", socket()},
            {"vms",
             {{{"name", "vm1"},
               {"heartbeat", "unix:" + dir.file("vm1.hb")},
               {"executor", {{"type", "command"}, {"argv", {marker_script(dir, marker())}}}}},
              {{"name", "vm2"},
               {"heartbeat", "unix:" + dir.file("vm2.hb")},
               {"executor", {{"type", "qmp"}, {"socket", dir.file("vm2.qmp")}, {"timeout_secs", 2}}}}}}};
        write_file(dir.file("vmhostd.json"), config.dump(2));
        ASSERT_TRUE(daemon.start(dir.file("vmhostd.json"), socket(), dir.file("vmhostd.log"))) << daemon.log();
        ASSERT_TRUE(guest->accept()) << "vmhostd did not connect to the fake guest\n" << daemon.log();
    }
    std::unique_ptr<StuckSocket> stuck_heartbeat;
    std::unique_ptr<StuckSocket> stuck_qmp;
};

TEST_F(StoppedVm, DoesNotStallTheSupervisionOfOthers) {
    // A whole stall of the loop (a blocking connect) stops vm1's challenges
    // for good; a slow interval keeps a busy test thread from faking one.
    ASSERT_TRUE(guest->init(kRelaxedIntervalMs)) << "vmhostd is stuck (blocking connect to vm2?)\n" << daemon.log();
    // vm2's QMP monitor never accepts: the action fails at its timeout...
    auto r = ctl({"action", "vm2", "pause", "--timeout", "30"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("QMP socket " + dir.file("vm2.qmp")), std::string::npos) << r.out << r.err;
    // ...while vm1 was challenged and answered all along.
    for (int i = 0; i < 3; ++i) {
        auto c = guest->next_challenge();
        ASSERT_TRUE(c) << daemon.log();
        guest->answer(*c);
    }
    auto list = ctl({"--json", "list"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    auto vms = nlohmann::json::parse(list.out)["vms"];
    EXPECT_EQ(vms[0]["heartbeat"], "active");
    EXPECT_EQ(vms[1]["heartbeat"], "disconnected");
    EXPECT_TRUE(event_details("loss").empty());
    EXPECT_NE(daemon.log().find("backlog full"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace hosttest
