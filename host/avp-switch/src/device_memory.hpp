// Where a device's shared memory lives: one region file (ivshmem and file
// profiles) or the resourceN files of a fake PCI sysfs device (legacy).
// Both expose the same four blocks, so the port logic is profile-blind.
#pragma once

#include <avp/avp_region.h>

#include <cstdint>
#include <memory>
#include <string>

#include "port_config.hpp"

namespace avpsw {

struct DeviceBlocks {
    avp_region_header* header = nullptr;  // null for the legacy profile
    uint32_t* regs = nullptr;             // AVP_REG_* words
    avp_memmap* memmap = nullptr;
    avp_device_info* info = nullptr;
    uint8_t* data = nullptr;  // BAR2 / data area
    uint64_t data_size = 0;
    avp_irq_area* irq = nullptr;  // only for ports with a doorbell
};

class DeviceMemory {
public:
    virtual ~DeviceMemory() = default;
    const DeviceBlocks& blocks() const { return blocks_; }
    // Writes the region header magic last, once the device is fully built.
    virtual void publish() = 0;
    // Human-readable location, e.g. the file or the PCI device directory.
    virtual std::string location() const = 0;
    // The descriptor of the whole region (what QEMU maps as BAR2), or -1.
    virtual int region_fd() const { return -1; }
    // How the memory is backed, for logs and `ctl ports`.
    virtual std::string backing() const { return "file"; }

protected:
    DeviceBlocks blocks_;
};

// Creates the backing for `port` with room for `data_size` bytes of data area.
// On failure returns null and sets `error`.
std::unique_ptr<DeviceMemory> create_device_memory(const PortConfig& port, uint64_t data_size, std::string& error);

// Layout of a region file holding `data_size` bytes of data (shared with tests).
// The interrupt area, when there is one, follows the data area.
struct RegionLayout {
    uint64_t regs_offset, memmap_offset, devinfo_offset, data_offset, irq_offset, total_size;
};
RegionLayout region_layout(uint64_t data_size, bool with_irq, uint64_t data_align = AVP_REGION_ALIGN);

}  // namespace avpsw
