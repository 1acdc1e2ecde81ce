// The command line and configuration-file steps the guest daemons share.
#include "gsdk/daemon_command_line.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Parsed {
    std::optional<int> status;
    gsdk::DaemonCommandLine line;
    std::string usage_printed;
};

Parsed parse(std::vector<std::string> args, std::vector<std::string> extra = {}, bool host_channel = true) {
    args.insert(args.begin(), "testd");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Parsed p;
    gsdk::DaemonCommandLineSpec spec{"testd", "/nonexistent/testd.conf", std::move(extra),
                                     [&p](FILE*) { p.usage_printed = "usage"; }, host_channel};
    p.status = gsdk::parse_daemon_command_line(static_cast<int>(args.size()), argv.data(), spec, &p.line);
    return p;
}

TEST(DaemonCommandLine, CommonOptionsAndTheDaemonsOwn) {
    auto p = parse({"--device", "/dev/vport0p1", "--socket-dir", "/run/x", "--log-level", "debug", "--config",
                    "/etc/x.conf", "--name", "vm-7"},
                   {"name"});
    EXPECT_FALSE(p.status);
    EXPECT_EQ(p.line.host_channel.value_or(""), "/dev/vport0p1");
    EXPECT_EQ(p.line.socket_dir.value_or(""), "/run/x");
    EXPECT_EQ(p.line.level, gsdk::LogLevel::Debug);
    EXPECT_EQ(p.line.config_path, "/etc/x.conf");
    EXPECT_TRUE(p.line.config_explicit);
    EXPECT_EQ(p.line.extra["name"], "vm-7");
}

TEST(DaemonCommandLine, DefaultsWhenNothingIsGiven) {
    auto p = parse({});
    EXPECT_FALSE(p.status);
    EXPECT_EQ(p.line.config_path, "/nonexistent/testd.conf");
    EXPECT_FALSE(p.line.config_explicit);
    EXPECT_FALSE(p.line.host_channel);
    EXPECT_EQ(p.line.level, gsdk::LogLevel::Info);
}

TEST(DaemonCommandLine, UsageErrorsExitTwoAndHelpExitsZero) {
    EXPECT_EQ(parse({"--listen", "/tmp/sock"}).status, 2);  // needs unix:PATH
    EXPECT_EQ(parse({"--log-level", "loud"}).status, 2);
    EXPECT_EQ(parse({"--name", "x"}).status, 2);  // not this daemon's option
    EXPECT_EQ(parse({"stray"}).status, 2);
    auto unknown = parse({"--bogus"});
    EXPECT_EQ(unknown.status, 2);
    EXPECT_EQ(unknown.usage_printed, "usage");
    EXPECT_EQ(parse({"--help"}).status, 0);
    EXPECT_EQ(parse({"--listen", "unix:/tmp/sock"}).line.host_channel.value_or(""), "unix:/tmp/sock");
}

TEST(DaemonCommandLine, ADaemonWithoutAPortTakesNoPortOptions) {
    EXPECT_EQ(parse({"--device", "/dev/vport0p1"}, {}, false).status, 2);
    EXPECT_EQ(parse({"--listen", "unix:/tmp/sock"}, {}, false).status, 2);
    EXPECT_FALSE(parse({"--socket-dir", "/run/x"}, {}, false).status);
}

TEST(DaemonCommandLine, AMissingDefaultFileIsNoFileButANamedOneMustBeReadable) {
    gsdk::DaemonCommandLine line;
    line.config_path = "/nonexistent/testd.conf";
    std::string text = "left over";
    EXPECT_TRUE(gsdk::read_daemon_config_file(line, &text));
    EXPECT_EQ(text, "");
    line.config_explicit = true;
    EXPECT_FALSE(gsdk::read_daemon_config_file(line, &text));

    char dir[] = "/tmp/gsdk-cmdline-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    line.config_path = std::string(dir) + "/testd.conf";
    std::ofstream(line.config_path) << "KEY=1\n";
    EXPECT_TRUE(gsdk::read_daemon_config_file(line, &text));
    EXPECT_EQ(text, "KEY=1\n");
    // A default path that fails for another reason than absence is not
    // silently skipped (here: ENOTDIR).
    std::string file = line.config_path;
    line.config_explicit = false;
    line.config_path = file + "/testd.conf";
    EXPECT_FALSE(gsdk::read_daemon_config_file(line, &text));
    ::unlink(file.c_str());
    ::rmdir(dir);
}

TEST(DaemonCommandLine, TheDescriptorLimitIsRaisedToTheHardLimit) {
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    rlimit lowered = before;
    lowered.rlim_cur = before.rlim_max > 256 ? 256 : before.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
    EXPECT_EQ(gsdk::raise_descriptor_limit(), before.rlim_max);
    rlimit after{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(after.rlim_cur, before.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &before);
}

}  // namespace
