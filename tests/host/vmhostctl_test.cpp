// vmhostctl's outputs, vmhostd's configuration errors, control socket
// robustness, shutdown, and the QMP executor against a fake QMP server.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

#include "gsdk/unix_socket.h"
#include "host_fixture.h"
#include "vmhost_control.pb.h"

namespace hosttest {
namespace {

using CA = hb::CorrectiveAction;

class Vmhostctl : public HostFixture {};

TEST_F(Vmhostctl, ListShowsAnAlignedTableAndJson) {
    ASSERT_TRUE(guest->init(250, CA::Stop));
    auto c = guest->next_challenge();
    ASSERT_TRUE(c);
    guest->answer(*c, true, CA::Stop, "", std::vector<hb::ApplicationStatus>{{"vnf-a", "healthy"}});
    ASSERT_TRUE(eventually([&] { return vm_status()["applications"].size() == 1; }));
    auto r = ctl({"list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto nl = r.out.find('\n');
    ASSERT_NE(nl, std::string::npos);
    std::string header = r.out.substr(0, nl), row = r.out.substr(nl + 1);
    EXPECT_EQ(header.rfind("VM", 0), 0u) << r.out;
    for (const char* col : {"HEARTBEAT", "HEALTH", "INTERVAL", "CORRECTIVE", "ACTION", "APPLICATIONS"})
        EXPECT_NE(header.find(col), std::string::npos) << col;
    // Columns line up: each value starts under its header.
    EXPECT_EQ(row.find("active"), header.find("HEARTBEAT")) << r.out;
    EXPECT_EQ(row.find("250ms"), header.find("INTERVAL")) << r.out;
    EXPECT_EQ(row.find("stop"), header.find("CORRECTIVE")) << r.out;
    EXPECT_EQ(row.find("vnf-a:healthy"), header.find("APPLICATIONS")) << r.out;
    auto vm = vm_status();
    EXPECT_EQ(vm["name"], "vm1");
    EXPECT_EQ(vm["heartbeat"], "active");
    EXPECT_EQ(vm["health"], "healthy");
    EXPECT_EQ(vm["interval_ms"], 250);
    EXPECT_EQ(vm["corrective_action"], "stop");
    EXPECT_EQ(vm["action"], "");
}

TEST_F(Vmhostctl, EventsInTableJsonAndFollow) {
    ASSERT_TRUE(guest->init(kIntervalMs));
    auto r = ctl({"events", "vm1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("SEQ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("init"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("guest \"guest-of-test\""), std::string::npos) << r.out;
    auto all = events("");
    ASSERT_FALSE(all.empty());
    uint64_t previous = 0;
    for (const auto& e : all) {
        EXPECT_GT(e["sequence"].get<uint64_t>(), previous);
        previous = e["sequence"];
        EXPECT_EQ(e["vm"], "vm1");
        EXPECT_GT(e["time_ms"].get<int64_t>(), 0);
    }
    // --follow prints recent events, then what happens next, as JSON lines,
    // until interrupted. The test goes by what it printed, never by a clock:
    // (a fixed lifetime let a slow start under ASan miss the event, or the
    // interrupt land before vmhostctl could handle it).
    std::string out = dir.file("follow.out"), err = dir.file("follow.err");
    gsdk::test::Subprocess follow;
    follow.start({vmhostctl_path(), "--socket", socket(), "--json", "events", "vm1", "--follow"}, out, {}, err);
    auto printed = [&](const std::string& text) {
        guest->wait_for([](const hb::Message&) { return false; }, 20ms);  // the guest stays alive meanwhile
        return read_file(out).find(text) != std::string::npos;
    };
    ASSERT_TRUE(eventually([&] { return printed("\"kind\":\"init\""); })) << read_file(out) << read_file(err);
    guest->send(hb::Exit{"follow me"});
    ASSERT_TRUE(eventually([&] { return printed("follow me"); })) << read_file(out) << read_file(err);
    follow.signal(SIGINT);
    auto status = follow.wait(kPatience);
    ASSERT_TRUE(status) << "vmhostctl --follow did not end on SIGINT";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status << read_file(err);
    std::string text = read_file(out);
    bool found = false;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        ASSERT_NE(end, std::string::npos) << "unterminated line: " << text.substr(start);
        auto j = nlohmann::json::parse(text.substr(start, end - start), nullptr, false);
        ASSERT_TRUE(j.is_object()) << text;
        found = found || (j["kind"] == "exit" && j["detail"].dump().find("follow me") != std::string::npos);
        start = end + 1;
    }
    EXPECT_TRUE(found) << text;
}

TEST_F(Vmhostctl, GarbageOnTheControlSocketGetsAnErrorReply) {
    int fd = gsdk::seqpacket_connect(socket());
    ASSERT_GE(fd, 0);
    const char junk[] = "\xff\xff\xff not a protobuf";
    ASSERT_EQ(gsdk::seqpacket_send(fd, junk, sizeof junk), 0);
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    char buf[4096];
    long n = gsdk::seqpacket_receive(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    gsdk::vmhost::control::Reply reply;
    ASSERT_TRUE(reply.ParseFromArray(buf, static_cast<int>(n)));
    ASSERT_TRUE(reply.has_error());
    EXPECT_NE(reply.error().message().find("not a valid"), std::string::npos);
    // An empty Request: error naming what is missing.
    gsdk::vmhost::control::Request empty;
    empty.set_request_id(42);
    std::string bytes = empty.SerializeAsString();
    ASSERT_EQ(gsdk::seqpacket_send(fd, bytes.data(), bytes.size()), 0);
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    n = gsdk::seqpacket_receive(fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    ASSERT_TRUE(reply.ParseFromArray(buf, static_cast<int>(n)));
    EXPECT_EQ(reply.request_id(), 42u);
    EXPECT_NE(reply.error().message().find("no body"), std::string::npos);
    ::close(fd);
    EXPECT_TRUE(daemon.running());
}

TEST_F(Vmhostctl, AFloodOfGarbageRequestsIsAnsweredButLoggedAtMostOncePerSecond) {
    int fd = gsdk::seqpacket_connect(socket());
    ASSERT_GE(fd, 0);
    auto start = std::chrono::steady_clock::now();
    const char junk[] = "\xff\xff\xff not a protobuf";
    char buf[4096];
    for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(gsdk::seqpacket_send(fd, junk, sizeof junk), 0);
        pollfd p{fd, POLLIN, 0};
        ASSERT_EQ(::poll(&p, 1, 10000), 1);
        ASSERT_GT(gsdk::seqpacket_receive(fd, buf, sizeof buf), 0);  // every one still answered
    }
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    ::close(fd);
    std::string log = daemon.log();
    std::size_t lines = 0;
    for (auto pos = log.find("that are not a Request"); pos != std::string::npos;
         pos = log.find("that are not a Request", pos + 1))
        ++lines;
    EXPECT_GE(lines, 1u);
    EXPECT_LE(lines, static_cast<std::size_t>(seconds) + 2) << log;
}

TEST_F(Vmhostctl, SigtermShutsDownCleanlyAndAbortsWaitingActions) {
    ASSERT_TRUE(guest->init(kIntervalMs, CA::Reboot, 30, 1));
    auto run = ctl_async({"action", "vm1", "stop"});
    ASSERT_TRUE(guest->wait_for(is<hb::ActionNotify>()));
    EXPECT_EQ(daemon.stop(), 0);
    auto r = run.get();
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("aborted: vmhostd is shutting down"), std::string::npos) << r.out << r.err;
    struct stat st;
    EXPECT_NE(::stat(socket().c_str(), &st), 0) << "control socket left behind";
    EXPECT_NE(daemon.log().find("SIGTERM received: shutting down"), std::string::npos);
    EXPECT_FALSE(guest->next(2s)) << "the guest should just see the connection close";
    EXPECT_FALSE(guest->connected());
    // And vmhostctl now says vmhostd is not there.
    r = ctl({"list"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("is vmhostd running?"), std::string::npos) << r.err;
}

class VmhostdConfig : public ::testing::Test {
protected:
    CommandResult run_with(const std::string& text) {
        write_file(dir.file("bad.json"), text);
        return run_command({vmhostd_path(), "--config", dir.file("bad.json")}, 20s);
    }
    TempDir dir;
};

TEST_F(VmhostdConfig, BadConfigurationsAreRefusedNamingKeyAndFile) {
    struct Case {
        std::string text;
        std::string expect;
    };
    std::string vm =
        R"({"name":"a","heartbeat":"unix:/tmp/x.sock","executor":{"type":"command","argv":["/bin/true"]}})";
    std::vector<Case> cases = {
        {"{", "not valid JSON"},
        {R"({"vms":[], "colour":"red"})", "colour: unknown key"},
        {R"({"control_socket":"/tmp/c.sock"})", "vms: missing"},
        {R"({"vms":[{"name":"a","heartbeat":"/dev/vport0","executor":{"type":"command","argv":["/bin/true"]}}]})",
         "vms[0].heartbeat"},
        {R"({"vms":[{"name":"a","heartbeat":"unix:/tmp/x","executor":{"type":"ssh"}}]})",
         "vms[0].executor.type: \"ssh\" is not command or qmp"},
        {R"({"vms":[{"name":"a","heartbeat":"unix:/tmp/x","executor":{"type":"command","argv":[]}}]})",
         "vms[0].executor.argv"},
        {R"({"vms":[{"name":"a","heartbeat":"unix:/tmp/x","executor":{"type":"qmp"}}]})",
         "vms[0].executor.socket: missing"},
        {R"({"vms":[{"name":"a b","heartbeat":"unix:/tmp/x","executor":{"type":"qmp","socket":"/q"}}]})",
         "vms[0].name"},
        {R"({"event_log_size":"big","vms":[]})", "event_log_size: must be an integer"},
        {"{\"vms\":[" + vm + "," + vm + "]}", "vms[1].name: \"a\" is used twice"},
        {R"({"vms":[{"name":"a","heartbeat":"unix:/tmp/x","executor":{"type":"command","argv":["/bin/true"],"timeout":5}}]})",
         "vms[0].executor.timeout: unknown key"},
    };
    for (const auto& c : cases) {
        auto r = run_with(c.text);
        EXPECT_EQ(r.exit_code, 2) << c.text;
        EXPECT_NE(r.err.find(dir.file("bad.json")), std::string::npos) << "file not named: " << r.err;
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << "for " << c.text << "\ngot: " << r.err;
    }
    auto r = run_command({vmhostd_path(), "--config", dir.file("missing.json")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("missing.json: cannot read"), std::string::npos) << r.err;
    r = run_command({vmhostd_path()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--config"), std::string::npos) << r.err;
}

// A stand-in for QEMU's QMP monitor: greets, accepts qmp_capabilities and
// records every command it is asked to execute.
class FakeQmp {
public:
    explicit FakeQmp(std::string path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 4);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeQmp() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::vector<std::string> commands() {
        std::lock_guard lock(mutex_);
        return commands_;
    }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            int conn = ::accept(fd_, nullptr, nullptr);
            if (conn < 0) continue;
            write_line(conn,
                       R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}})");
            gsdk::LineSplitter splitter;
            char buf[1024];
            bool quit = false;
            while (!quit) {
                pollfd q{conn, POLLIN, 0};
                if (::poll(&q, 1, 5000) <= 0) break;
                ssize_t n = ::recv(conn, buf, sizeof buf, 0);
                if (n <= 0) break;
                splitter.feed(
                    std::string_view(buf, n),
                    [&](std::string_view line) {
                        auto j = nlohmann::json::parse(line, nullptr, false);
                        std::string cmd = j.is_object() ? j.value("execute", "") : "";
                        {
                            std::lock_guard lock(mutex_);
                            commands_.push_back(cmd);
                        }
                        write_line(conn, R"({"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}})");
                        write_line(conn, R"({"return": {}})");
                        quit = cmd == "quit";
                    },
                    [](std::size_t) {});
            }
            ::close(conn);
        }
    }
    static void write_line(int fd, const std::string& s) {
        std::string line = s + "\r\n";
        (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    }

    std::string path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<std::string> commands_;
    std::thread thread_;
};

class QmpExecutor : public HostFixture {
protected:
    void SetUp() override {
        guest = std::make_unique<FakeGuest>(dir.file("vm1.hb"));
        guest->listen();
        qmp = std::make_unique<FakeQmp>(dir.file("qmp.sock"));
        start_vmhostd(nlohmann::json{{"type", "qmp"}, {"socket", dir.file("qmp.sock")}});
        ASSERT_TRUE(guest->accept());
    }
    std::unique_ptr<FakeQmp> qmp;
};

TEST_F(QmpExecutor, ActionsMapToQmpCommands) {
    auto r = ctl({"action", "vm1", "pause"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(qmp->commands(), (std::vector<std::string>{"qmp_capabilities", "stop"}));
    r = ctl({"action", "vm1", "live-migrate"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("QMP stop, cont done"), std::string::npos) << r.out;
    r = ctl({"action", "vm1", "stop"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(qmp->commands(), (std::vector<std::string>{"qmp_capabilities", "stop", "qmp_capabilities", "stop", "cont",
                                                         "qmp_capabilities", "quit"}));
    qmp.reset();  // QEMU gone: the executor fails with the cause
    r = ctl({"action", "vm1", "reboot"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("cannot connect to QMP socket"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hosttest
