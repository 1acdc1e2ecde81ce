// The legacy profile looks like a PCI sysfs device to a scanner.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;
namespace fs = std::filesystem;

namespace {

std::string text(const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

}  // namespace

TEST(LegacyTree, LooksLikeAnAvpPciDeviceBoundToUioPciGeneric) {
    std::string root = tmp_path("sys");
    SwitchProcess sw({"--port", "a,profile=legacy,path=" + root + ",slot=5,uio=77,buffers=256"});
    ASSERT_TRUE(sw.ok()) << sw.log();
    fs::path dev = fs::path(root) / "0000:00:05.0";
    EXPECT_EQ(sw.port("a")["location"], dev.string());
    EXPECT_EQ(text(dev / "vendor"), "0x1af4");
    EXPECT_EQ(text(dev / "device"), "0x1110");
    EXPECT_EQ(text(dev / "subsystem_vendor"), "0x1af4");
    EXPECT_EQ(text(dev / "subsystem_device"), "0x1104");
    EXPECT_EQ(text(dev / "class"), "0x050000");
    EXPECT_EQ(fs::read_symlink(dev / "driver").filename(), "uio_pci_generic");
    EXPECT_TRUE(fs::is_directory(dev / "driver"));
    EXPECT_EQ(text(dev / "uio" / "uio77" / "dev").substr(text(dev / "uio" / "uio77" / "dev").find(':')), ":77");
    EXPECT_TRUE(fs::exists(dev / "uio" / "uio77" / "device" / "config"));
    EXPECT_TRUE(fs::exists(fs::path(root) / ".class" / "uio" / "uio77" / "device" / "config"));

    std::ifstream cfg(dev / "config", std::ios::binary);
    uint8_t c[256];
    ASSERT_TRUE(cfg.read(reinterpret_cast<char*>(c), 256));
    EXPECT_EQ(c[0] | c[1] << 8, 0x1af4);
    EXPECT_EQ(c[2] | c[3] << 8, 0x1110);
    EXPECT_EQ(c[0x2c] | c[0x2d] << 8, 0x1af4);
    EXPECT_EQ(c[0x2e] | c[0x2f] << 8, 0x1104);
    EXPECT_EQ(c[0x0b], 0x05);

    // Every BAR in `resource` has a resourceN file of exactly its size.
    std::ifstream res(dev / "resource");
    std::string line;
    for (int bar = 0; bar < 13 && std::getline(res, line); bar++) {
        unsigned long long start, end, flags;
        ASSERT_EQ(std::sscanf(line.c_str(), "%llx %llx %llx", &start, &end, &flags), 3) << line;
        fs::path file = dev / ("resource" + std::to_string(bar));
        if (start == 0) {
            EXPECT_FALSE(fs::exists(file)) << bar;
            continue;
        }
        EXPECT_TRUE(flags & 0x200) << "memory BAR " << bar;
        ASSERT_TRUE(fs::exists(file)) << bar;
        EXPECT_EQ(fs::file_size(file), end - start + 1) << bar;
        EXPECT_EQ((end - start + 1) & (end - start), 0u) << "BAR sizes are powers of two";
    }
    for (int bar : {0, 1, 2, 4, 5}) EXPECT_TRUE(fs::exists(dev / ("resource" + std::to_string(bar)))) << bar;

    TestGuest g(dev.string());
    EXPECT_EQ(g.load(), "");
    sw.stop();
    EXPECT_FALSE(fs::exists(dev)) << "the switch removes its device directory on exit";
}

TEST(LegacyTree, AnExistingDeviceDirectoryIsRefused) {
    std::string root = tmp_path("sys2");
    fs::create_directories(fs::path(root) / "0000:00:07.0");
    RunResult r =
        run_switch_cli({"run", "--socket", tmp_path("l.sock"), "--port", "a,profile=legacy,path=" + root + ",slot=7"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("device directory exists"), std::string::npos) << r.err;
    fs::remove_all(root);
}
