// Profile 1: a legacy AVP presented as a fake PCI sysfs device directory, so
// an unmodified DPDK PCI scan (SYSFS_PCI_DEVICES=<root>) finds and maps it:
//
//   <root>/0000:00:NN.0/{vendor,device,subsystem_*,class,config,resource,
//                        resource0..5,numa_node,driver->../.drivers/uio_pci_generic,
//                        uio/uioM/{dev,name,device->../..}}
//   <root>/.class/uio/uioM/device -> <root>/0000:00:NN.0   (for /sys/class/uio)
//
// DPDK skips entries starting with '.', so the helper directories are hidden
// from the scan. See docs/avp-switch.md for the two paths DPDK hard-codes.
#include <avp/avp_region.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "device_memory.hpp"
#include "shared_file.hpp"

namespace fs = std::filesystem;

namespace avpsw {

namespace {

uint64_t pow2_at_least(uint64_t v) {
    uint64_t p = 4096;
    while (p < v) p <<= 1;
    return p;
}

constexpr uint64_t kResourceMem = 0x200;        // IORESOURCE_MEM
constexpr uint64_t kResourcePrefetch = 0x2000;  // IORESOURCE_PREFETCH
constexpr uint64_t kResourceMem64 = 0x100000;   // IORESOURCE_MEM_64

class PciTree : public DeviceMemory {
public:
    ~PciTree() override {
        for (auto& f : bars_) f = SharedFile();  // unmaps and unlinks
        std::error_code ec;
        if (!dev_dir_.empty()) fs::remove_all(dev_dir_, ec);
        if (!class_dir_.empty()) fs::remove_all(class_dir_, ec);
        // The helper directories are shared by every device under the root:
        // only the last device out removes them (and the root, if empty).
        if (root_.empty()) return;
        for (auto& e : fs::directory_iterator(root_, ec)) {
            auto n = e.path().filename().string();
            if (n != ".drivers" && n != ".class") return;
        }
        fs::remove_all(root_ / ".drivers", ec);
        fs::remove_all(root_ / ".class", ec);
        fs::remove(root_, ec);
    }

    bool build(const PortConfig& port, uint64_t data_size, std::string& error) {
        char name[32];
        std::snprintf(name, sizeof(name), "0000:00:%02x.0", port.slot);
        fs::path root(port.path);
        fs::path dev = root / name;
        std::error_code ec;
        fs::create_directories(root, ec);
        if (ec) {
            error = root.string() + ": " + ec.message();
            return false;
        }
        if (fs::exists(dev, ec)) {
            if (!port.replace) {
                error = dev.string() + ": device directory exists (set replace=1 to reuse it)";
                return false;
            }
            fs::remove_all(dev, ec);
        }
        if (!fs::create_directory(dev, ec) || ec) {
            error = dev.string() + ": cannot create: " + (ec ? ec.message() : "exists");
            return false;
        }
        dev_dir_ = dev;
        root_ = root;

        uint64_t sizes[AVP_BAR_COUNT] = {4096, 4096, pow2_at_least(data_size), 0, pow2_at_least(sizeof(avp_memmap)),
                                         4096};
        // Fake bus addresses: distinct, aligned, nonzero (DPDK skips phys 0).
        uint64_t bus[AVP_BAR_COUNT] = {0xfe000000ull + port.slot * 0x10000ull,
                                       0xfe008000ull + port.slot * 0x10000ull,
                                       0x800000000ull + uint64_t(port.slot) * 0x40000000ull,
                                       0,
                                       0xfd000000ull + port.slot * 0x20000ull,
                                       0xfe00c000ull + port.slot * 0x10000ull};
        for (int i = 0; i < AVP_BAR_COUNT; i++) {
            if (!sizes[i]) continue;
            if (!bars_[i].create((dev / ("resource" + std::to_string(i))).string(), sizes[i], true, error))
                return false;
        }

        std::ofstream(dev / "resource") << resource_text(sizes, bus);
        write_text(dev / "vendor", hex(AVP_PCI_VENDOR_ID, 4));
        write_text(dev / "device", hex(AVP_PCI_DEVICE_ID, 4));
        write_text(dev / "subsystem_vendor", hex(AVP_PCI_SUB_VENDOR_ID, 4));
        write_text(dev / "subsystem_device", hex(AVP_PCI_SUB_DEVICE_ID, 4));
        write_text(dev / "class", hex(AVP_PCI_CLASS, 6));
        write_text(dev / "numa_node", "0");
        write_text(dev / "irq", "0");
        write_config(dev / "config", bus);

        fs::path drivers = root / ".drivers" / "uio_pci_generic";
        fs::create_directories(drivers, ec);
        fs::create_directory_symlink(fs::path("..") / ".drivers" / "uio_pci_generic", dev / "driver", ec);
        std::string uio = "uio" + std::to_string(port.uio);
        fs::path uio_dir = dev / "uio" / uio;
        fs::create_directories(uio_dir, ec);
        write_text(uio_dir / "dev", "243:" + std::to_string(port.uio));
        write_text(uio_dir / "name", "uio_pci_generic");
        fs::create_directory_symlink("../..", uio_dir / "device", ec);
        // DPDK opens /sys/class/uio/uioM/device/config with an absolute path;
        // binding <root>/.class over /sys/class in a private mount namespace
        // makes this entry the one it finds.
        class_dir_ = root / ".class" / "uio" / uio;
        fs::remove_all(class_dir_, ec);
        fs::create_directories(class_dir_, ec);
        fs::create_directory_symlink(fs::absolute(dev), class_dir_ / "device", ec);
        if (ec) {
            error = dev.string() + ": " + ec.message();
            return false;
        }

        blocks_.regs = static_cast<uint32_t*>(bars_[AVP_BAR_MMIO].address());
        blocks_.data = static_cast<uint8_t*>(bars_[AVP_BAR_MEMORY].address());
        blocks_.data_size = data_size;
        blocks_.memmap = static_cast<avp_memmap*>(bars_[AVP_BAR_MEMMAP].address());
        blocks_.info = static_cast<avp_device_info*>(bars_[AVP_BAR_DEVICE].address());
        return true;
    }

    void publish() override {}
    std::string location() const override { return dev_dir_.string(); }

private:
    static std::string hex(uint64_t v, int digits) {
        char b[32];
        std::snprintf(b, sizeof(b), "0x%0*llx", digits, static_cast<unsigned long long>(v));
        return b;
    }

    static void write_text(const fs::path& p, const std::string& s) { std::ofstream(p) << s << "\n"; }

    // Same shape as the kernel's: 13 lines "start end flags", zeros when unused.
    static std::string resource_text(const uint64_t* sizes, const uint64_t* bus) {
        std::string out;
        char line[96];
        for (int i = 0; i < 13; i++) {
            uint64_t start = 0, end = 0, flags = 0;
            if (i < AVP_BAR_COUNT && sizes[i]) {
                start = bus[i];
                end = bus[i] + sizes[i] - 1;
                flags = kResourceMem | (i == AVP_BAR_MEMORY ? kResourcePrefetch | kResourceMem64 : 0);
            }
            std::snprintf(line, sizeof(line), "0x%016llx 0x%016llx 0x%016llx\n", static_cast<unsigned long long>(start),
                          static_cast<unsigned long long>(end), static_cast<unsigned long long>(flags));
            out += line;
        }
        return out;
    }

    static void put16(uint8_t* c, int off, uint16_t v) { std::memcpy(c + off, &v, 2); }
    static void put32(uint8_t* c, int off, uint32_t v) { std::memcpy(c + off, &v, 4); }

    static void write_config(const fs::path& p, const uint64_t* bus) {
        uint8_t c[256] = {};
        put16(c, 0x00, AVP_PCI_VENDOR_ID);
        put16(c, 0x02, AVP_PCI_DEVICE_ID);
        put16(c, 0x04, 0x0002);  // memory space enabled
        c[0x09] = AVP_PCI_CLASS & 0xff;
        c[0x0a] = (AVP_PCI_CLASS >> 8) & 0xff;
        c[0x0b] = (AVP_PCI_CLASS >> 16) & 0xff;
        put32(c, 0x10, static_cast<uint32_t>(bus[0]));
        put32(c, 0x14, static_cast<uint32_t>(bus[1]));
        put32(c, 0x18, static_cast<uint32_t>(bus[2]) | 0x0c);  // 64-bit prefetchable
        put32(c, 0x1c, static_cast<uint32_t>(bus[2] >> 32));
        put32(c, 0x20, static_cast<uint32_t>(bus[4]));
        put32(c, 0x24, static_cast<uint32_t>(bus[5]));
        put16(c, 0x2c, AVP_PCI_SUB_VENDOR_ID);
        put16(c, 0x2e, AVP_PCI_SUB_DEVICE_ID);
        std::ofstream(p, std::ios::binary).write(reinterpret_cast<char*>(c), sizeof(c));
    }

    fs::path root_;
    fs::path dev_dir_;
    fs::path class_dir_;
    SharedFile bars_[AVP_BAR_COUNT];
};

}  // namespace

std::unique_ptr<DeviceMemory> create_region_file(const PortConfig& port, uint64_t data_size, std::string& error);

std::unique_ptr<DeviceMemory> create_device_memory(const PortConfig& port, uint64_t data_size, std::string& error) {
    if (port.profile != Profile::Legacy) return create_region_file(port, data_size, error);
    auto t = std::make_unique<PciTree>();
    if (!t->build(port, data_size, error)) return nullptr;
    return t;
}

}  // namespace avpsw
