// Profiles 2 and 3: one flat region file (see avp_region.h).
#include <gsdk/log.h>
#include <unistd.h>

#include <bit>

#include "device_memory.hpp"
#include "shared_file.hpp"

namespace avpsw {

namespace {

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

class RegionFile : public DeviceMemory {
public:
    RegionFile(std::string path, SharedFile file, uint64_t data_align)
        : path_(std::move(path)), file_(std::move(file)), data_align_(data_align) {}

    void init(uint64_t data_size, bool with_irq) {
        RegionLayout l = region_layout(data_size, with_irq, data_align_);
        auto* base = static_cast<uint8_t*>(file_.address());
        blocks_.header = reinterpret_cast<avp_region_header*>(base);
        blocks_.regs = reinterpret_cast<uint32_t*>(base + l.regs_offset);
        blocks_.memmap = reinterpret_cast<avp_memmap*>(base + l.memmap_offset);
        blocks_.info = reinterpret_cast<avp_device_info*>(base + l.devinfo_offset);
        blocks_.data = base + l.data_offset;
        blocks_.data_size = data_size;
        avp_region_header& h = *blocks_.header;
        h.version = AVP_REGION_VERSION;
        h.total_size = l.total_size;
        h.regs_offset = l.regs_offset;
        h.regs_size = AVP_REGION_ALIGN;
        h.memmap_offset = l.memmap_offset;
        h.memmap_size = l.devinfo_offset - l.memmap_offset;
        h.devinfo_offset = l.devinfo_offset;
        h.devinfo_size = AVP_REGION_ALIGN;
        h.data_offset = l.data_offset;
        h.data_size = data_size;
        h.host_pid = static_cast<uint32_t>(getpid());
        if (with_irq) {
            h.irq_offset = l.irq_offset;
            h.irq_size = AVP_REGION_ALIGN;
            blocks_.irq = reinterpret_cast<avp_irq_area*>(base + l.irq_offset);
        }
    }

    void publish() override { __atomic_store_n(&blocks_.header->magic, AVP_REGION_MAGIC, __ATOMIC_RELEASE); }

    std::string location() const override { return path_; }
    int region_fd() const override { return file_.fd(); }
    std::string backing() const override {
        if (file_.huge_file().empty()) return "ordinary pages";
        return "hugetlbfs " + std::to_string(data_align_ >> 10) + " kB pages (" + file_.huge_file() + ")";
    }

private:
    std::string path_;
    SharedFile file_;
    uint64_t data_align_;
};

}  // namespace

RegionLayout region_layout(uint64_t data_size, bool with_irq, uint64_t data_align) {
    RegionLayout l{};
    l.regs_offset = AVP_REGION_ALIGN;
    l.memmap_offset = 2 * AVP_REGION_ALIGN;
    l.devinfo_offset = l.memmap_offset + round_up(sizeof(avp_memmap), AVP_REGION_ALIGN);
    // On huge pages the data starts on a page of its own (avp_region.h).
    l.data_offset = round_up(l.devinfo_offset + AVP_REGION_ALIGN, data_align);
    l.total_size = l.data_offset + round_up(data_size, AVP_REGION_ALIGN);
    l.irq_offset = 0;
    if (with_irq) {
        static_assert(sizeof(avp_irq_area) <= AVP_REGION_ALIGN);
        l.irq_offset = l.total_size;
        l.total_size += AVP_REGION_ALIGN;
    }
    return l;
}

std::unique_ptr<DeviceMemory> create_region_file(const PortConfig& port, uint64_t data_size, std::string& error) {
    bool with_irq = !port.doorbell.empty();
    // QEMU maps an ivshmem backing file as a PCI BAR, whose size is a power
    // of two: the file is padded so that it can be handed to QEMU as it is.
    // The header keeps stating the region's own size.
    auto file_size = [&](uint64_t align) {
        uint64_t size = region_layout(data_size, with_irq, align).total_size;
        return port.profile == Profile::Ivshmem ? std::bit_ceil(size) : size;
    };
    SharedFile f;
    if (port.hugepages != HugePages::Off) {
        std::string why;
        if (auto fs = find_hugetlbfs(port.hugetlbfs, why)) {
            if (f.create_huge(port.path, file_size(fs->page_size), port.replace, *fs, why)) {
                LOG_INFO("port %s: region on %llu kB huge pages: %s -> %s", port.name.c_str(),
                         static_cast<unsigned long long>(fs->page_size >> 10), port.path.c_str(),
                         f.huge_file().c_str());
                auto r = std::make_unique<RegionFile>(port.path, std::move(f), fs->page_size);
                r->init(data_size, with_irq);
                return r;
            }
            f = SharedFile();
        }
        if (port.hugepages == HugePages::On) {
            error = "hugepages=on: " + why;
            return nullptr;
        }
        LOG_INFO("port %s: region on ordinary pages: %s", port.name.c_str(), why.c_str());
    }
    if (!f.create(port.path, file_size(AVP_REGION_ALIGN), port.replace, error)) return nullptr;
    auto r = std::make_unique<RegionFile>(port.path, std::move(f), AVP_REGION_ALIGN);
    r->init(data_size, with_irq);
    return r;
}

}  // namespace avpsw
