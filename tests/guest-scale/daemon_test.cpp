// guest-scaled alone, with this test playing server-groupd's local-service
// side: what the host would get back for each scale_request, and what the
// fake sysfs tree looks like afterwards.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "scale_fixture.h"

namespace gsdk::test {
namespace {

using Online = std::vector<unsigned>;

TEST_F(GuestScaleTest, DownTakesTheHighestOnlineCpuAndUpBringsItBack) {
    start_daemon();
    json r = ask(down());
    EXPECT_EQ(r, json({{"version", 2},
                       {"resource", "cpu"},
                       {"direction", "down"},
                       {"result", "success"},
                       {"offline_cpu", 3},
                       {"online_cpus", {0, 1, 2}}}));
    EXPECT_FALSE(tree->online(3));
    r = ask(down());
    EXPECT_EQ(r["offline_cpu"], 2);
    EXPECT_EQ(r["online_cpus"], json({0, 1}));
    EXPECT_FALSE(tree->online(2));

    r = ask(up(2, {0, 1}));
    EXPECT_EQ(r, json({{"version", 2},
                       {"resource", "cpu"},
                       {"direction", "up"},
                       {"result", "success"},
                       {"online_cpu", 2},
                       {"online_cpus", {0, 1, 2}}}));
    EXPECT_TRUE(tree->online(2));
    r = ask(up(3, {0, 1, 2}));
    EXPECT_EQ(r["result"], "success");
    EXPECT_EQ(tree->online_list(cpus), Online({0, 1, 2, 3}));
}

TEST_F(GuestScaleTest, CpuZeroIsNeverTakenOffline) {
    start_daemon();
    for (unsigned expected : {3u, 2u, 1u}) EXPECT_EQ(ask(down())["offline_cpu"], expected);
    json r = ask(down());
    EXPECT_EQ(r["result"], "fail");
    EXPECT_EQ(r["direction"], "down");
    EXPECT_NE(r["err_msg"].get<std::string>().find("no CPU can be taken offline"), std::string::npos) << r;
    EXPECT_FALSE(r.contains("offline_cpu"));
    EXPECT_TRUE(tree->online(0));
    EXPECT_FALSE(std::filesystem::exists(tree->online_file(0))) << "the daemon created cpu0/online";
}

TEST_F(GuestScaleTest, ACpuWithoutAnOnlineFileIsNotTaken) {
    std::filesystem::remove(tree->online_file(3));
    start_daemon();
    EXPECT_EQ(ask(down())["offline_cpu"], 2);
    json r = ask(up(3, {0, 1, 3}));
    EXPECT_EQ(r["result"], "fail");
    EXPECT_NE(r["err_msg"].get<std::string>().find("no online file"), std::string::npos) << r;
}

TEST_F(GuestScaleTest, TheHelpersChoiceIsHonoured) {
    std::string marker = dir / "helper.calls";
    start_daemon({"--helper", helper("echo \"$*\" >> " + marker +
                                     "\n"
                                     "case \"$1\" in --cpu_del) exit 1;; esac\nexit 0")});
    json r = ask(down());
    EXPECT_EQ(r["offline_cpu"], 1);
    EXPECT_EQ(r["online_cpus"], json({0, 2, 3}));
    EXPECT_FALSE(tree->online(1));
    EXPECT_TRUE(tree->online(3));
    r = ask(up(1, {0, 2, 3}));
    EXPECT_EQ(r["result"], "success");
    // --cpu_add runs after the answer: wait for its line.
    ASSERT_TRUE(wait_for_text(marker, "--cpu_add", kPatience));
    EXPECT_EQ(read_file(marker), "--cpu_del\n--cpu_add 1 [0,1,2,3]\n");
}

TEST_F(GuestScaleTest, TheSampleHelperPicksTheHighestOnlineCpu) {
    tree->set(3, false);
    start_daemon({"--helper", GSDK_SOURCE_DIR "/guest-scale/scripts/app_scale_helper"});
    json r = ask(down());
    EXPECT_EQ(r["offline_cpu"], 2);
    EXPECT_TRUE(wait_for_text(dir / "guest-scaled.log", "chosen by helper", kPatience)) << log();
}

TEST_F(GuestScaleTest, AHelperThatFailsGivesTheDefaultChoice) {
    start_daemon({"--helper", helper("kill -SEGV $$")});
    json r = ask(down());
    EXPECT_EQ(r["result"], "success");
    EXPECT_EQ(r["offline_cpu"], 3);
    EXPECT_EQ(log_count("killed by signal 11"), 1) << log();
}

TEST_F(GuestScaleTest, AHelperNamingABadCpuGivesTheDefaultChoiceAndALogLine) {
    for (unsigned cpu : {4u, 5u}) {
        tree->plug(cpu);
        tree->set(cpu, true);
    }
    tree->set(1, false);
    std::string choice = dir / "choice";
    start_daemon({"--helper", helper("exit $(cat " + choice + ")")});
    struct Case {
        const char* cpu;
        const char* why;
    };
    // Offline already, absent, and (after the first down) the one just taken.
    for (Case c : {Case{"1", "is already offline"}, Case{"9", "does not exist"}, Case{"5", "is already offline"}}) {
        write_file(choice, c.cpu);
        json r = ask(down());
        ASSERT_EQ(r["result"], "success") << r;
        EXPECT_EQ(log_count(std::string("chose CPU ") + c.cpu + ", which " + c.why), 1) << log();
    }
    EXPECT_EQ(tree->online_list(6), Online({0, 2}));
}

TEST_F(GuestScaleTest, AHelperStillRunningAtTheDeadlineIsKilledAndTheDefaultTaken) {
    std::string pid_file = dir / "helper.pid";
    start_daemon({"--helper", helper("echo $$ > " + pid_file + "\nexec sleep 600")});
    auto before = std::chrono::steady_clock::now();
    json r = ask(down(1200));
    auto took = std::chrono::steady_clock::now() - before;
    EXPECT_EQ(r["result"], "success");
    EXPECT_EQ(r["offline_cpu"], 3);
    // Not a timing assertion: the helper would have run for 600 s.
    EXPECT_LT(took, 300s);
    pid_t pid = std::stoi(read_file(pid_file));
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        gone = ::kill(pid, 0) != 0;
        if (!gone) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(gone) << "the helper (pid " << pid << ") outlived the deadline";
    EXPECT_EQ(log_count("still running at the deadline and was killed"), 1) << log();
}

TEST_F(GuestScaleTest, BringingAnOnlineCpuOnlineIsRefused) {
    start_daemon();
    json r = ask(up(2, {0, 1, 2, 3}));
    EXPECT_EQ(r, json({{"version", 2},
                       {"resource", "cpu"},
                       {"direction", "up"},
                       {"result", "fail"},
                       {"err_msg", "CPU 2 is already online"}}));
    r = ask(up(7, {0, 1, 2, 3}));
    EXPECT_EQ(r["err_msg"], "there is no CPU 7 in this guest");
}

TEST_F(GuestScaleTest, ACpuTheHostJustPluggedIsWaitedFor) {
    cpus = 4;
    write_file(dir / "sys/devices/system/cpu/possible", "0-5\n");
    start_daemon();
    std::thread plugger([&] {
        std::this_thread::sleep_for(200ms);
        tree->plug(4);
    });
    json r = ask(up(4, {0, 1, 2, 3}));
    plugger.join();
    EXPECT_EQ(r["result"], "success") << r;
    EXPECT_EQ(r["online_cpus"], json({0, 1, 2, 3, 4}));
}

TEST_F(GuestScaleTest, ACpuWhoseOnlineFileComesAfterItsDirectoryIsWaitedFor) {
    // sysfs creates a hot-plugged CPU's directory before its attributes.
    cpus = 4;
    write_file(dir / "sys/devices/system/cpu/possible", "0-5\n");
    start_daemon();
    std::filesystem::create_directories(tree->cpu_dir(4));
    std::thread plugger([&] {
        std::this_thread::sleep_for(300ms);
        tree->set(4, false);
    });
    json r = ask(up(4, {0, 1, 2, 3}));
    plugger.join();
    EXPECT_EQ(r["result"], "success") << r;
    EXPECT_TRUE(tree->online(4));
}

TEST_F(GuestScaleTest, ARefusedSysfsWriteIsAnsweredFail) {
    // guest-scaled as an unprivileged user that owns the tree but for cpu3's
    // online file, which it may read and not write.
    Identity nobody{65534, 65534, {}};
    for (auto& e : std::filesystem::recursive_directory_iterator(dir / "sys"))
        ::chown(e.path().c_str(), nobody.uid, nobody.gid);
    ::chown(tree->online_file(3).c_str(), 0, 0);
    ::chmod(tree->online_file(3).c_str(), 0644);
    ::chown(relay->path().c_str(), nobody.uid, nobody.gid);
    for (const char* sub : {"state", "run"}) {
        std::filesystem::create_directories(dir / sub);
        ::chown((dir / sub).c_str(), nobody.uid, nobody.gid);
    }
    start_daemon_as(nobody);
    json r = ask(down());
    EXPECT_EQ(r["result"], "fail");
    std::string err = r.value("err_msg", "");
    EXPECT_EQ(err.rfind("sysfs write refused", 0), 0u) << err;
    EXPECT_NE(err.find("cpu3/online"), std::string::npos) << err;
    EXPECT_TRUE(tree->online(3));
    tree->set(2, false);
    r = ask(up(2, {0, 1, 2}));
    EXPECT_EQ(r["result"], "success") << r;
}

TEST_F(GuestScaleTest, MalformedRequestsAreAnsweredFailAndNothingChanges) {
    start_daemon();
    json valid = down();
    std::vector<std::pair<json, std::string>> cases;
    auto without = [&](const char* key) {
        json j = valid;
        j.erase(key);
        return j;
    };
    auto with = [&](const char* key, json v, json base) {
        base[key] = std::move(v);
        return base;
    };
    cases.push_back({without("msg_type"), "msg_type"});
    cases.push_back({with("msg_type", "scale_query", valid), "msg_type"});
    cases.push_back({without("version"), "version"});
    cases.push_back({with("version", "2", valid), "version"});
    cases.push_back({without("timeout_ms"), "timeout_ms"});
    cases.push_back({with("timeout_ms", -5, valid), "timeout_ms"});
    cases.push_back({with("timeout_ms", 1e12, valid), "timeout_ms"});
    cases.push_back({with("timeout_ms", 99999999999LL, valid), "timeout_ms"});
    cases.push_back({with("resource", "memory", valid), "resource"});
    cases.push_back({without("direction"), "direction"});
    cases.push_back({with("direction", "sideways", valid), "direction"});
    json u = up(2, {0, 1});
    cases.push_back({with("online_cpu", -1, u), "online_cpu"});
    cases.push_back({with("online_cpu", 100000, u), "online_cpu"});
    cases.push_back({with("online_cpu", 2.5, u), "online_cpu"});
    cases.push_back({with("online_cpus", "0,1", u), "online_cpus"});
    cases.push_back({with("online_cpus", {0, 0}, u), "online_cpus"});
    cases.push_back({with("online_cpus", {0, -1}, u), "online_cpus"});
    json no_cpu = u;
    no_cpu.erase("online_cpu");
    cases.push_back({no_cpu, "online_cpu"});
    for (const auto& [request, key] : cases) {
        json r = ask(request);
        EXPECT_EQ(r["result"], "fail") << request;
        EXPECT_EQ(r["version"], 2);
        EXPECT_EQ(r["resource"], "cpu");
        std::string err = r.value("err_msg", "");
        EXPECT_NE(err.find(key), std::string::npos) << request << " -> " << err;
        for (const char* k : {"offline_cpu", "online_cpu", "online_cpus"}) EXPECT_FALSE(r.contains(k)) << r;
        // The direction is echoed when the request named a valid one.
        if (request.contains("direction") && (request["direction"] == "up" || request["direction"] == "down"))
            EXPECT_EQ(r["direction"], request["direction"]);
        else
            EXPECT_FALSE(r.contains("direction")) << r;
    }
    // Not JSON at all, and not an object (server-groupd never passes these on).
    relay->deliver("scale-00000009", "{\"truncated");
    auto r = relay->next_send();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->second["result"], "fail");
    relay->deliver("scale-00000009", "[1,2]");
    r = relay->next_send();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->second["result"], "fail");
    EXPECT_EQ(tree->online_list(cpus), Online({0, 1, 2, 3}));
    EXPECT_EQ(ask(down())["offline_cpu"], 3) << "the daemon still serves";
    EXPECT_TRUE(daemon.running());
}

TEST_F(GuestScaleTest, ASecondRequestDuringAnOperationIsRefused) {
    std::string started = dir / "helper.started";
    std::string release = dir / "helper.release";
    start_daemon(
        {"--helper", helper("touch " + started + "\nwhile [ ! -e " + release + " ]; do sleep 0.05; done\nexit 2")});
    relay->deliver("scale-00000001", down().dump());
    ASSERT_TRUE(wait_for_path(started, kPatience));
    json r = ask(down(), "scale-00000002");
    EXPECT_EQ(r["result"], "fail");
    EXPECT_EQ(r["err_msg"], "another scale operation is in progress");
    write_file(release, "");
    auto first = relay->next_send();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->first, "scale-00000001");
    EXPECT_EQ(first->second["offline_cpu"], 2);
}

// The file is written just after the answer (the host does not wait for it).
TEST_F(GuestScaleTest, TheLastKnownOfflineSetIsKept) {
    start_daemon();
    ask(down());
    ask(down());
    EXPECT_TRUE(wait_for_text(state_file, "set([2, 3])", kPatience)) << read_file(state_file);
    EXPECT_EQ(read_file(state_file), "set([2, 3])\n");
    ask(up(2, {0, 1}));
    EXPECT_TRUE(wait_for_text(state_file, "set([3])", kPatience)) << read_file(state_file);
    EXPECT_EQ(read_file(state_file), "set([3])\n");
}

// A save of the last-known set that cannot finish (its temporary file is a
// FIFO nobody reads: the open waits, as an fsync on a stuck disk would) does
// not hold up the next operation, and the newest set is written once it can.
TEST_F(GuestScaleTest, ASaveThatCannotFinishDoesNotHoldUpTheNextOperation) {
    start_daemon();
    std::string tmp = state_file + ".tmp";
    std::filesystem::create_directories(std::filesystem::path(state_file).parent_path());
    ASSERT_EQ(::mkfifo(tmp.c_str(), 0600), 0) << std::strerror(errno);
    EXPECT_EQ(ask(down())["offline_cpu"], 3);
    json answer = ask(up(3, {0, 1, 2}));  // while the down's save waits on the FIFO
    EXPECT_EQ(answer["result"], "success") << answer.dump();
    EXPECT_EQ(answer["online_cpu"], 3);
    // Let the stuck save finish; the up's save comes after it.
    int fd = ::open(tmp.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(wait_for_text(state_file, "set()", kPatience)) << read_file(state_file);
    ::close(fd);
    EXPECT_EQ(read_file(state_file), "set()\n");  // the empty set, as the original wrote it
}

TEST_F(GuestScaleTest, ReclaimsCgcsScaleWhenServerGroupdComesBack) {
    start_daemon();
    relay->drop();
    ASSERT_TRUE(relay->accept_claim()) << log();
    EXPECT_EQ(ask(down())["offline_cpu"], 3);
}

// systemctl reload: the file is read again. The app scale helper named in the
// file applies from the next operation; a file with a problem is refused
// whole; the process stays the same.
TEST_F(GuestScaleTest, AReloadTakesTheNewHelperAndRefusesABadFileWhole) {
    std::string conf = dir / "reload.conf";
    write_file(conf, "SOCKET_GROUP=\n");
    daemon.start({guest_scaled_path(), "--config", conf, "--sysfs-root", dir / "sys", "--service-socket", relay->path(),
                  "--socket-dir", dir / "run", "--state-file", state_file, "--log-level", "debug"},
                 dir / "guest-scaled.log");
    ASSERT_TRUE(relay->accept_claim()) << log();
    pid_t pid = daemon.pid();
    EXPECT_EQ(ask(down())["offline_cpu"], 3);  // no helper yet: the default

    write_file(conf,
               "SOCKET_GROUP=\nAPP_SCALE_HELPER=" + helper("case \"$1\" in --cpu_del) exit 1;; esac\nexit 0") + "\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_text(dir / "guest-scaled.log", "reloaded " + conf, kPatience)) << log();
    EXPECT_EQ(ask(down())["offline_cpu"], 1);  // the new helper's choice

    write_file(conf, "SOCKET_GROUP=\nAPP_SCALE_HELPER=\nNO_SUCH_KEY=1\n");
    daemon.signal(SIGHUP);
    ASSERT_TRUE(wait_for_text(dir / "guest-scaled.log", "refused; the running configuration stays", kPatience))
        << log();
    EXPECT_EQ(log_count("unknown key NO_SUCH_KEY"), 1) << log();
    EXPECT_EQ(log_count("reloaded " + conf), 1) << log();
    // The helper stayed: it still chooses CPU 1 once that is back.
    EXPECT_EQ(ask(up(1, {0, 2}))["result"], "success");
    EXPECT_EQ(ask(down())["offline_cpu"], 1);
    EXPECT_TRUE(daemon.running());
    EXPECT_EQ(daemon.pid(), pid);
}

// A reload asked for while the daemon was still starting (here: pending
// when it began) is served once its watch is in place, and it still serves.
TEST_F(GuestScaleTest, AReloadAskedDuringStartUpIsServedOnceTheDaemonWatchesForIt) {
    daemon.start_with_pending({SIGHUP});
    start_daemon();
    ASSERT_TRUE(wait_for_text(dir / "guest-scaled.log", "reloaded ", kPatience)) << log();
    EXPECT_EQ(ask(down())["offline_cpu"], 3);
    daemon.signal(SIGHUP);
    auto end = std::chrono::steady_clock::now() + kPatience;
    while (log_count("reloaded ") < 2 && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(log_count("reloaded "), 2) << log();
    EXPECT_TRUE(daemon.running());
}

TEST_F(GuestScaleTest, SigtermStopsTheDaemonCleanly) {
    start_daemon();
    daemon.signal(SIGTERM);
    auto status = daemon.wait(kPatience);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status;
    EXPECT_EQ(log_count("stopping on SIGTERM"), 1) << log();
}

}  // namespace
}  // namespace gsdk::test
