/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The checks a guest driver makes on what an AVP host shares with it, in one
 * place for the Linux kernel driver (avp-kmod) and the DPDK driver (avp-pmd).
 *
 * Everything here works on values the caller already copied out of shared
 * memory (each driver reads the host's words with its own ordering
 * primitives) and on storage the caller provides: nothing here reads shared
 * memory itself, allocates or logs. A failed check returns a negative errno
 * and sets *why to the cause, which the driver logs.
 *
 * Types are the __u* ones of <linux/types.h>, which both the kernel and Linux
 * user space have, so this header is clean for the kernel's checkpatch too.
 */
#ifndef AVP_HOST_CHECKS_H
#define AVP_HOST_CHECKS_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <linux/types.h>
#endif

#include "avp_device.h"
#include "avp_region.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The smallest buffer or frame limit accepted: a minimal frame plus a VLAN tag. */
#define AVP_MIN_BUFFER 64
/* Buffer and frame lengths travel as 16-bit numbers in a descriptor. */
#define AVP_MAX_BUFFER 0xffff

/* A block of the region: inside it, after the header, page aligned, big enough. */
static inline bool
avp_block_ok(__u64 off, __u64 size, __u64 min, __u64 total)
{
	return size >= min && off >= sizeof(struct avp_region_header) && off <= total &&
	       size <= total - off && off % AVP_REGION_ALIGN == 0;
}

/*
 * Checks a copy of the region header against the len bytes mapped. The
 * magic is the caller's to check before it copies the header (it orders
 * the copy after the host's last store, and the drivers answer a missing
 * magic differently). too_big names what len is (the drivers map a BAR or
 * a file) in the message for a total_size beyond it. The optional interrupt
 * area is left to the caller: a bad one means polling, not a refused device.
 */
static inline int
avp_region_header_check(const struct avp_region_header *h, __u64 len, const char *too_big,
			const char **why)
{
	__u64 total = h->total_size;

	if (h->version != AVP_REGION_VERSION) {
		*why = "unsupported region version";
		return -EINVAL;
	}
	if (total > len || total < sizeof(*h)) {
		*why = too_big;
		return -EINVAL;
	}
	if (!avp_block_ok(h->regs_offset, h->regs_size, AVP_REG_BLOCK_SIZE, total) ||
	    !avp_block_ok(h->memmap_offset, h->memmap_size, offsetof(struct avp_memmap, entry),
			  total) ||
	    !avp_block_ok(h->devinfo_offset, h->devinfo_size, sizeof(struct avp_device_info),
			  total) ||
	    !avp_block_ok(h->data_offset, h->data_size, 1, total)) {
		*why = "region block outside the region";
		return -EINVAL;
	}
	return 0;
}

/*
 * Checks a copy of the device info whose magic the caller has checked, and
 * terminates its ifname. A guest accepts a host whose release.major is not
 * newer than its own (driver_version). The DPDK driver also requires the
 * num_rx/num_tx queue counts within 1..max (with_num_queues); the kernel
 * driver picks its own queue counts and does not look at them.
 * EOPNOTSUPP is the value of user space's ENOTSUP on Linux.
 */
static inline int
avp_info_check(struct avp_device_info *info, __u32 driver_version, bool with_num_queues,
	       const char **why)
{
	if (AVP_VERSION_RELMAJ(info->version) > AVP_VERSION_RELMAJ(driver_version)) {
		*why = "host version newer than this driver";
		return -EOPNOTSUPP;
	}
	if (!info->max_rx_queues || !info->max_tx_queues || info->max_rx_queues > AVP_MAX_QUEUES ||
	    info->max_tx_queues > AVP_MAX_QUEUES ||
	    (with_num_queues && (!info->num_rx_queues || !info->num_tx_queues ||
				 info->num_rx_queues > info->max_rx_queues ||
				 info->num_tx_queues > info->max_tx_queues))) {
		*why = "bad queue counts";
		return -EINVAL;
	}
	if (info->mbuf_size < AVP_MIN_BUFFER || info->mbuf_size > AVP_MAX_BUFFER) {
		*why = "bad buffer size";
		return -EINVAL;
	}
	if (info->max_rx_pkt_len < AVP_MIN_BUFFER || info->max_rx_pkt_len > AVP_MAX_BUFFER) {
		*why = "bad max_rx_pkt_len";
		return -EINVAL;
	}
	info->ifname[AVP_IFNAME_SIZE - 1] = '\0';
	return 0;
}

/* One memory map entry resolved to its offset inside the data block. */
struct avp_map {
	__u64 phys; /* host-physical start of the segment */
	__u64 len;  /* its length; never 0 */
	__u64 off;  /* where it starts inside the data block */
};

/* The memory map block's size before its entries (it must hold at least that). */
#define AVP_MEMMAP_HEADER_SIZE offsetof(struct avp_memmap, entry)

/* Checks the entry count the host wrote against the memory map block's size. */
static inline int
avp_memmap_count_check(__u32 count, __u64 memmap_size, const char **why)
{
	if (!count || count > AVP_MEMMAP_MAX ||
	    AVP_MEMMAP_HEADER_SIZE + (__u64)count * sizeof(struct avp_memmap_entry) > memmap_size) {
		*why = "bad memory map entry count";
		return -EINVAL;
	}
	return 0;
}

/*
 * Fills *m from one entry (copied by the caller) that starts off bytes into
 * the data block; it must end inside the data block's data_size bytes.
 */
static inline int
avp_map_set(struct avp_map *m, __u64 phys, __u64 len, __u64 off, __u64 data_size, const char **why)
{
	m->phys = phys;
	m->len = len;
	m->off = off;
	if (!len || off > data_size || len > data_size - off) {
		*why = "memory map larger than the shared memory";
		return -EINVAL;
	}
	return 0;
}

/* Host-physical [phys, phys + len) to a pointer into data, or NULL if not wholly inside. */
static inline void *
avp_map_lookup(const struct avp_map *maps, __u32 nb_maps, __u8 *data, __u64 phys, __u64 len)
{
	__u32 i;

	for (i = 0; i < nb_maps; i++) {
		const struct avp_map *m = &maps[i];
		__u64 off = phys - m->phys; /* wraps to huge when phys < m->phys */

		if (off < m->len && len <= m->len - off)
			return data + m->off + off;
	}
	return NULL;
}

/*
 * Single-pool hosts give only mbuf_va/phys: the pool runs to the end of the
 * memory map entry that holds mbuf_phys. Returns that length, 0 if none.
 */
static inline __u64
avp_map_tail(const struct avp_map *maps, __u32 nb_maps, __u64 phys)
{
	__u32 i;

	for (i = 0; i < nb_maps; i++) {
		__u64 off = phys - maps[i].phys;

		if (off < maps[i].len)
			return maps[i].len - off;
	}
	return 0;
}

/* A pool's host-virtual range must not wrap, and there is room for nb_pools + 1 pools. */
static inline bool
avp_pool_ok(__u64 va, __u64 len, __u32 nb_pools)
{
	return va + len >= va && nb_pools < AVP_MAX_POOLS;
}

/*
 * A FIFO's length (slots) as the host wrote it: a power of two of at least
 * 2 whose FIFO fits its stride (0: no stride, a single FIFO). The caller
 * also checks that the whole FIFO lies in the shared memory.
 */
static inline bool
avp_fifo_len_ok(__u32 len, __u32 stride)
{
	return len >= 2 && !(len & (len - 1)) && (!stride || AVP_FIFO_BYTES(len) <= stride);
}

#ifdef __cplusplus
}
#endif

#endif /* AVP_HOST_CHECKS_H */
