// File and ivshmem regions on huge pages where a hugetlbfs has room, with
// the user's path a link to the hugetlbfs file; ordinary pages otherwise.
#include <gtest/gtest.h>

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <climits>
#include <fstream>

#include "switch_process.hpp"
#include "test_guest.hpp"
#include "test_process.h"

using namespace avptest;

namespace {

const char* kPool = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";

long read_long(const std::string& path) {
    std::ifstream in(path);
    long v = -1;
    in >> v;
    return v;
}

int run(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/bin/timeout", "-k", "5", "20"});
    return gsdk::test::run_command(argv, nullptr, std::chrono::milliseconds(30000));
}

// A private hugetlbfs mount (the test's own, so the switch is pointed at it).
struct HugeMount : ::testing::Test {
    std::string dir = tmp_path("huge");
    bool mounted = false;

    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a hugetlbfs";
        if (read_long(kPool) < 0) GTEST_SKIP() << "no 2 MiB huge pages on this kernel";
        ::mkdir(dir.c_str(), 0700);
        ASSERT_EQ(run({"mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "none", dir}), 0);
        mounted = true;
    }
    void TearDown() override {
        if (mounted) run({"umount", dir});
        ::rmdir(dir.c_str());
    }
};

// Enough free 2 MiB pages for one test, given back afterwards. Only one
// test changes the pool, so tests running side by side cannot undo it.
struct FreePages {
    long before = -1;
    bool ok = true;
    explicit FreePages(long want) {
        long free = read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
        if (free >= want) return;
        before = read_long(kPool);
        std::ofstream(kPool) << before + want - free;
        ok = read_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") >= want;
    }
    ~FreePages() {
        if (before >= 0) std::ofstream(kPool) << before;
    }
};

std::string link_target(const std::string& path) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

TEST_F(HugeMount, RegionsLiveOnHugePagesBehindTheUsersPath) {
    std::string a = shm_path("ha"), b = shm_path("hb");
    std::string target_a;
    FreePages pages(24);
    if (!pages.ok) GTEST_SKIP() << "cannot reserve 24 huge pages";
    {
        SwitchProcess sw({"--hugetlbfs", dir, "--port", "a,profile=file,path=" + a + ",buffers=1024", "--port",
                          "b,profile=ivshmem,path=" + b + ",buffers=1024", "--pair", "a,b"});
        ASSERT_TRUE(sw.ok()) << sw.log();
        target_a = link_target(a);
        EXPECT_EQ(target_a, dir + "/avp-switch." + a.substr(a.rfind('/') + 1)) << "the user's path links to it";
        struct statfs fs {};
        ASSERT_EQ(::statfs(a.c_str(), &fs), 0);
        EXPECT_EQ(fs.f_type, static_cast<decltype(fs.f_type)>(HUGETLBFS_MAGIC));
        for (const char* n : {"a", "b"}) {
            EXPECT_NE(sw.port(n).value("backing", "").find("hugetlbfs 2048 kB pages"), std::string::npos)
                << sw.port(n).dump();
        }
        EXPECT_NE(sw.log().find("region on 2048 kB huge pages"), std::string::npos) << sw.log();

        TestGuest ga(a), gb(b);
        ASSERT_EQ(ga.load(), "");
        ASSERT_EQ(gb.load(), "");
        EXPECT_EQ(ga.header()->data_offset % (2u << 20), 0u) << "data on a huge page of its own";
        ASSERT_EQ(ga.configure(true), 0);
        ASSERT_EQ(gb.configure(true), 0);
        uint32_t seq = 0;
        for (size_t size : {64, 1500, 9000}) {
            auto f = make_frame(size, seq++);
            ASSERT_TRUE(ga.send(f));
            auto got = gb.receive();
            ASSERT_TRUE(got) << size;
            EXPECT_EQ(got->bytes, f);
        }
    }
    struct stat st {};
    EXPECT_NE(::lstat(a.c_str(), &st), 0) << "the link goes with the switch";
    EXPECT_NE(::lstat(target_a.c_str(), &st), 0) << "and so does the hugetlbfs file";
}

TEST_F(HugeMount, ASwitchNotPointedAtAMountLeavesItAlone) {
    struct statfs fs {};
    if (::statfs("/dev/hugepages", &fs) == 0 && fs.f_type == static_cast<decltype(fs.f_type)>(HUGETLBFS_MAGIC))
        GTEST_SKIP() << "/dev/hugepages is a hugetlbfs here: the default would use it";
    SwitchProcess sw({"--port", "a,profile=file,path=" + shm_path("alone") + ",buffers=256"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    EXPECT_EQ(sw.port("a")["backing"], "ordinary pages") << "our private mount is not the switch's";
    EXPECT_NE(sw.log().find("/dev/hugepages is not a mounted hugetlbfs"), std::string::npos) << sw.log();
}

TEST_F(HugeMount, WithTooFewFreePagesAutoFallsBackAndOnRefuses) {
    // A region bigger than the whole pool (even while another test grows it).
    long pool = read_long(kPool);
    if (pool + 32 > 256) GTEST_SKIP() << "the pool is larger than the largest region";
    std::string buffers = "262144";
    RunResult r = run_switch_cli({"run", "--socket", tmp_path("h.sock"), "--hugetlbfs", dir, "--port",
                                  "a,profile=file,hugepages=on,path=" + shm_path("hon") + ",buffers=" + buffers});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("hugepages=on: needs"), std::string::npos) << r.err;
    SwitchProcess sw(
        {"--hugetlbfs", dir, "--port", "a,profile=file,path=" + shm_path("hauto") + ",buffers=" + buffers});
    ASSERT_TRUE(sw.ok()) << sw.log();
    EXPECT_EQ(sw.port("a")["backing"], "ordinary pages");
    EXPECT_NE(sw.log().find("region on ordinary pages: needs"), std::string::npos) << sw.log();
}

TEST(HugePages, WithoutAHugetlbfsRegionsUseOrdinaryPagesAndSaySo) {
    std::string p = shm_path("plain");
    SwitchProcess sw({"--hugetlbfs", "/tmp", "--port", "a,profile=file,path=" + p + ",buffers=256"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    EXPECT_EQ(sw.port("a")["backing"], "ordinary pages");
    EXPECT_NE(sw.log().find("/tmp is not a mounted hugetlbfs"), std::string::npos) << sw.log();
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    RunResult r = run_switch_cli({"run", "--socket", tmp_path("h2.sock"), "--hugetlbfs", "/tmp", "--port",
                                  "a,profile=file,hugepages=on,path=" + shm_path("on")});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("hugepages=on: /tmp is not a mounted hugetlbfs"), std::string::npos) << r.err;
}

TEST(HugePages, ReplaceTakesOverALinkLeftByAHugePageRun) {
    std::string p = shm_path("stale"), old = tmp_path("stale-target");
    std::ofstream(old) << "a crashed switch's region";
    ASSERT_EQ(::symlink(old.c_str(), p.c_str()), 0);
    SwitchProcess sw({"--port", "a,profile=file,hugepages=off,replace=1,path=" + p + ",buffers=256"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode)) << "the link itself was replaced";
    std::ifstream in(old);
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "a crashed switch's region") << "not what it pointed at";
    ::unlink(old.c_str());
}
