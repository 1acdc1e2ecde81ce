// Every bad command line or control request gets a clear error, and a
// running switch keeps running.
#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

void expect_refused(const std::vector<std::string>& args, int code, const std::string& text) {
    RunResult r = run_switch_cli(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << "stderr was: " << r.err;
}

}  // namespace

TEST(CommandLine, BadRunArgumentsAreRefusedWithTheReason) {
    std::string p = "a,profile=file,path=" + shm_path("cli");
    std::string sock = tmp_path("cli.sock");
    expect_refused({}, 2, "missing command");
    expect_refused({"frobnicate"}, 2, "unknown command 'frobnicate'");
    expect_refused({"run", "--socket", sock}, 2, "no ports given");
    expect_refused({"run", "--port", "a,profile=vhost,path=/dev/shm/x"}, 2, "profile=vhost: unknown profile");
    expect_refused({"run", "--port", "a,profile=file"}, 2, "port a: path= is required");
    expect_refused({"run", "--port", "a,profile=file,path=relative"}, 2, "must be an absolute path");
    expect_refused({"run", "--port", p, "--port", p}, 2, "duplicate port name 'a'");
    expect_refused({"run", "--port", p + ",fifo_len=100"}, 2, "must be a power of two");
    expect_refused({"run", "--port", p + ",mac=01:00:00:00:00:01"}, 2, "cannot be multicast");
    expect_refused({"run", "--port", p + ",mac=zz"}, 2, "expected xx:xx:xx:xx:xx:xx");
    expect_refused({"run", "--port", p + ",buffers=5"}, 2, "buffers=5: expected a number");
    expect_refused({"run", "--port", p + ",colour=blue"}, 2, "unknown port option 'colour'");
    expect_refused({"run", "--port", p, "--pair", "a,zz"}, 2, "unknown port 'zz'");
    expect_refused({"run", "--port", p, "--pair", "a"}, 2, "expected A,B");
    expect_refused({"run", "--port", p, "--bench", "x"}, 2, "--bench x");
    expect_refused({"run", "--port", p, "--nonsense"}, 2, "unknown option '--nonsense'");
    expect_refused({"run", "--config", tmp_path("missing.json")}, 2, "cannot read config file");
    std::string bad_json = tmp_path("bad.json");
    std::ofstream(bad_json) << "{ \"ports\": [ {\"name\": \"a\", \"profile\": 7";
    expect_refused({"run", "--config", bad_json}, 2, bad_json);
    ::unlink(bad_json.c_str());
    expect_refused({"ctl", "--socket", tmp_path("nobody.sock"), "stats"}, 1, "cannot reach the switch");
}

TEST(CommandLine, AnExistingRegionFileIsNotTakenOver) {
    std::string path = shm_path("taken");
    std::ofstream(path) << "someone else's";
    expect_refused({"run", "--socket", tmp_path("t.sock"), "--port", "a,profile=file,path=" + path}, 1, "File exists");
    std::ifstream in(path);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "someone else's");
    // replace=1 is the explicit way to take it over.
    SwitchProcess sw({"--port", "a,profile=file,path=" + path + ",replace=1"});
    EXPECT_TRUE(sw.ok()) << sw.log();
    EXPECT_EQ(sw.stop(), 0) << sw.log();
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the switch removes its region on exit";
}

TEST(CommandLine, ConfigFileDescribesPortsAndPairs) {
    std::string cfg = tmp_path("switch.json");
    std::ofstream(cfg) << R"({"ports": [
        {"name": "x", "profile": "file", "path": ")"
                       << shm_path("x") << R"(", "buffers": 256},
        {"name": "y", "profile": "ivshmem", "path": ")"
                       << shm_path("y") << R"(", "mac": "02:00:00:00:00:99"}],
      "pairs": [["x", "y"]]})";
    SwitchProcess sw({"--config", cfg});
    ASSERT_TRUE(sw.ok()) << sw.log();
    EXPECT_EQ(sw.port("y")["mac"], "02:00:00:00:00:99");
    TestGuest x(shm_path("x")), y(shm_path("y"));
    ASSERT_EQ(x.load(), "");
    ASSERT_EQ(y.load(), "");
    ASSERT_EQ(x.configure(true), 0);
    ASSERT_EQ(y.configure(true), 0);
    ASSERT_TRUE(x.send(make_frame(64, 1)));
    EXPECT_TRUE(y.receive());
    ::unlink(cfg.c_str());
}

TEST(ControlSocket, BadRequestsGetClearErrorsAndTheSwitchKeepsRunning) {
    SwitchProcess sw({"--port", "a,profile=file,path=" + shm_path("a") + ",buffers=256"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    auto expect_error = [&](const std::string& line, const std::string& text) {
        auto r = sw.ctl(line);
        EXPECT_FALSE(r.value("ok", true)) << line;
        EXPECT_NE(r.value("error", "").find(text), std::string::npos) << line << " -> " << r.dump();
    };
    expect_error("", "empty command");
    expect_error("launch rockets", "unknown command 'launch'");
    expect_error("stats nosuch", "unknown port 'nosuch'");
    expect_error("migrate", "missing port name");
    expect_error("migrate nosuch detach", "unknown port 'nosuch'");
    expect_error("migrate a sideways", "expected 'migrate PORT detach|attach");
    expect_error("migrate a attach", "port is attached; detach it first");
    expect_error("migrate a detach abc", "timeout 'abc' is not a number");
    expect_error("fault a", "unknown mode ''");
    expect_error("fault a melt", "unknown mode 'melt'");
    expect_error("fault a chain-loop 0", "count '0' is not a number");
    expect_error("fault nosuch oversize", "unknown port 'nosuch'");
    expect_error(std::string(5000, 'x'), "expected one command line");

    // The same errors through the CLI: exit status 1 and the text on stderr.
    RunResult r = run_switch_cli({"ctl", "--socket", sw.socket(), "stats", "nosuch"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("error: stats: unknown port 'nosuch'"), std::string::npos) << r.err;
    r = run_switch_cli({"ctl", "--socket", sw.socket(), "stats", "a"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"name\": \"a\""), std::string::npos) << r.out;

    // Detached twice, and fault on a detached port.
    sw.ctl("migrate a detach 50");
    expect_error("migrate a detach", "already detached");
    expect_error("fault a oversize", "port is detached");
    EXPECT_TRUE(sw.running());
    EXPECT_TRUE(sw.ctl("stats").value("ok", false));

    RunResult second =
        run_switch_cli({"run", "--socket", sw.socket(), "--port", "b,profile=file,path=" + shm_path("b")});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.err.find("another switch is listening"), std::string::npos) << second.err;
    EXPECT_TRUE(sw.ctl("stats").value("ok", false)) << "the first switch still owns its socket";
}
