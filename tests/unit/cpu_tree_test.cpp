// guest-scaled's view of the CPU tree: every cpuN/online file on a tree
// without the kernel's lists (the test trees), the kernel's `present` and
// `online` lists where they exist and `present` still names the CPUs of the
// last full read.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cpu_tree.h"

namespace fs = std::filesystem;
using gsdk::scale::CpuSnapshot;
using gsdk::scale::CpuTree;

namespace {

class CpuTreeTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("cpu-tree-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(root_);
        fs::create_directories(cpu_dir() / "cpu0");  // no online file, like x86's cpu0
        for (int id = 1; id <= 3; id++) add_cpu(id, "1");
    }
    void TearDown() override { fs::remove_all(root_); }

    fs::path cpu_dir() const { return root_ / "devices/system/cpu"; }
    void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
    void add_cpu(int id, const char* online) {
        fs::create_directories(cpu_dir() / ("cpu" + std::to_string(id)));
        write(cpu_dir() / ("cpu" + std::to_string(id)) / "online", online);
    }
    CpuSnapshot scan(const CpuTree& tree) {
        CpuSnapshot s;
        std::string why;
        EXPECT_EQ(tree.scan(&s, &why), 0) << why;
        return s;
    }
    using List = std::vector<unsigned>;

    fs::path root_;
};

TEST_F(CpuTreeTest, WithoutTheKernelsListsEveryOnlineFileIsRead) {
    CpuTree tree(root_.string());
    EXPECT_EQ(scan(tree).online(), (List{0, 1, 2, 3}));
    write(cpu_dir() / "cpu2/online", "0");
    EXPECT_EQ(scan(tree).online(), (List{0, 1, 3}));
    EXPECT_EQ(scan(tree).offline(), (List{2}));
}

TEST_F(CpuTreeTest, TheKernelsListsAreBelievedOnceAFullReadNamedTheSameCpus) {
    write(cpu_dir() / "present", "0-3\n");
    write(cpu_dir() / "online", "0-3\n");
    CpuTree tree(root_.string());
    EXPECT_EQ(scan(tree).online(), (List{0, 1, 2, 3}));  // the full read
    // The files and the list disagree: only a read of the list sees CPU 2 go.
    write(cpu_dir() / "online", "0-1,3\n");
    CpuSnapshot s = scan(tree);
    EXPECT_EQ(s.online(), (List{0, 1, 3}));
    EXPECT_EQ(s.offline(), (List{2}));
    // CPU 0 has no online file: it stays online and not hot-pluggable
    // whatever the list says.
    write(cpu_dir() / "online", "1-3\n");
    s = scan(tree);
    ASSERT_NE(s.find(0), nullptr);
    EXPECT_TRUE(s.find(0)->online);
    EXPECT_FALSE(s.find(0)->hotpluggable);
}

TEST_F(CpuTreeTest, ACpuThatAppearsInPresentIsReadInFull) {
    write(cpu_dir() / "present", "0-3\n");
    write(cpu_dir() / "online", "0-3\n");
    CpuTree tree(root_.string());
    EXPECT_EQ(scan(tree).online(), (List{0, 1, 2, 3}));
    add_cpu(4, "0");  // hot-added, not yet online
    write(cpu_dir() / "present", "0-4\n");
    CpuSnapshot s = scan(tree);
    ASSERT_NE(s.find(4), nullptr);
    EXPECT_TRUE(s.find(4)->hotpluggable);
    EXPECT_EQ(s.offline(), (List{4}));
}

TEST_F(CpuTreeTest, AListThatDoesNotParseFallsBackToTheFiles) {
    write(cpu_dir() / "present", "0-3\n");
    write(cpu_dir() / "online", "0-3\n");
    CpuTree tree(root_.string());
    scan(tree);
    write(cpu_dir() / "cpu3/online", "0");
    for (const char* bad : {"0-x\n", "3-1\n", "0-99999\n", "0;1\n", ""}) {
        write(cpu_dir() / "online", bad);
        EXPECT_EQ(scan(tree).online(), (List{0, 1, 2})) << "online list \"" << bad << "\"";
    }
    // Longer than one read takes: whatever a cut copy of it would say (here
    // that CPU 3 is online), the files are read instead.
    std::string longer = "0-2";
    while (longer.size() < 5000) longer += ",3";
    write(cpu_dir() / "online", longer + "\n");
    EXPECT_EQ(scan(tree).online(), (List{0, 1, 2}));
}

}  // namespace
