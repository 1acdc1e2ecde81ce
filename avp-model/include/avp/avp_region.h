/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our AVP region (profiles 2 "ivshmem PCI" and 3 "file"): one flat shared
 * region that carries everything the legacy layout spreads over BAR0/2/4/5.
 * For ivshmem the region is BAR2 of an ivshmem-plain/doorbell device; for the
 * file profile it is a file (e.g. /dev/shm/NAME) mapped whole.
 *
 *   offset 0          struct avp_region_header
 *   regs_offset       emulated BAR0: four uint32_t at AVP_REG_* offsets
 *   memmap_offset     struct avp_memmap (same format as BAR4)
 *   devinfo_offset    struct avp_device_info (same format as BAR5)
 *   data_offset       the host segments concatenated (what BAR2 holds):
 *                     memory map entry k starts at data_offset + sum of the
 *                     lengths of entries 0..k-1
 *
 * Every offset/size is bounded by total_size, and every block starts on a
 * 4 KiB boundary (data on a 2 MiB one when the host uses huge pages). A guest
 * must check all of this (and the magics) before use: the host is untrusted.
 *
 * ivshmem-plain has no interrupts, so the guest polls the registers: a
 * migration event is pending whenever migration status != migration ack.
 * The host sets AVP_MIGRATION_INTERRUPT in interrupt status too (when the
 * mask enables it) for guests that prefer that; the guest clears it by
 * atomically exchanging it with 0, since a shared word cannot clear on read.
 */
#ifndef AVP_REGION_H
#define AVP_REGION_H

#include "avp_device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AVP_REGION_MAGIC   0x52505641u /* bytes "AVPR" on little-endian */
#define AVP_REGION_VERSION 1
#define AVP_REGION_ALIGN   4096

struct avp_region_header {
	uint32_t magic;	     /* AVP_REGION_MAGIC, stored last by the host */
	uint32_t version;    /* AVP_REGION_VERSION: layout of this header */
	uint64_t total_size; /* bytes of the whole region */
	uint64_t regs_offset;
	uint64_t regs_size; /* >= AVP_REG_BLOCK_SIZE */
	uint64_t memmap_offset;
	uint64_t memmap_size; /* >= 16 + 24 * count */
	uint64_t devinfo_offset;
	uint64_t devinfo_size; /* >= sizeof(struct avp_device_info) */
	uint64_t data_offset;
	uint64_t data_size; /* == sum of memory map entry lengths */
	uint32_t host_pid;  /* informational: the switch process */
	uint32_t reserved[7];
};

AVP_AT(avp_region_header, magic, 0);
AVP_AT(avp_region_header, version, 4);
AVP_AT(avp_region_header, total_size, 8);
AVP_AT(avp_region_header, regs_offset, 16);
AVP_AT(avp_region_header, regs_size, 24);
AVP_AT(avp_region_header, memmap_offset, 32);
AVP_AT(avp_region_header, memmap_size, 40);
AVP_AT(avp_region_header, devinfo_offset, 48);
AVP_AT(avp_region_header, devinfo_size, 56);
AVP_AT(avp_region_header, data_offset, 64);
AVP_AT(avp_region_header, data_size, 72);
AVP_AT(avp_region_header, host_pid, 80);
AVP_LAYOUT_ASSERT(sizeof(struct avp_region_header) == 112, "region header size");

#ifdef __cplusplus
}
#endif

#endif /* AVP_REGION_H */
