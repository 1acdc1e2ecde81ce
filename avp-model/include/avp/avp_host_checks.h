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

#include "avp_region.h"

#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <linux/types.h>
#endif

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

/* One host buffer pool: its host-virtual range and where its start is in the guest. */
struct avp_pool_view {
	__u64 va;   /* host-virtual start */
	__u64 len;  /* bytes, all inside the data block */
	__u8 *addr; /* guest address of va */
};

/*
 * Host address translation, rebuilt whenever the host moves the device.
 * maps is the caller's storage for AVP_MEMMAP_MAX entries (the kernel
 * driver's kvcalloc, the DPDK driver's rte_zmalloc).
 */
struct avp_xlate {
	struct avp_map *maps;			   /* caller's storage, AVP_MEMMAP_MAX entries */
	__u32 nb_maps;				   /* entries used */
	__u32 nb_pools;				   /* pools used */
	struct avp_pool_view pools[AVP_MAX_POOLS]; /* searched in order */
	__u8 *data;				   /* the data block: host segments end to end */
	__u64 data_size;			   /* its bytes */
};

/*
 * Whether [addr, addr + len) lies wholly inside [base, base + size), with
 * *off = addr - base. The one bounds check every host address goes through:
 * no sum that could wrap (addr - base wraps to huge when addr < base).
 */
static inline bool
avp_span_inside(__u64 base, __u64 size, __u64 addr, __u64 len, __u64 *off)
{
	*off = addr - base;
	return *off < size && len <= size - *off;
}

/* Host-physical [phys, phys + len) to a guest pointer, or NULL if not wholly inside. */
static inline void *
avp_xlate_phys(const struct avp_xlate *x, __u64 phys, __u64 len)
{
	__u32 i;
	__u64 off;

	for (i = 0; i < x->nb_maps; i++) {
		const struct avp_map *m = &x->maps[i];

		if (avp_span_inside(m->phys, m->len, phys, len, &off))
			return x->data + m->off + off;
	}
	return NULL;
}

/* Host-virtual [va, va + len) to a guest pointer inside one pool, or NULL. */
static inline void *
avp_xlate_va(const struct avp_xlate *x, __u64 va, __u64 len)
{
	__u32 i;
	__u64 off;

	for (i = 0; i < x->nb_pools; i++) {
		const struct avp_pool_view *p = &x->pools[i];

		if (avp_span_inside(p->va, p->len, va, len, &off))
			return p->addr + off;
	}
	return NULL;
}

/*
 * Appends the next memory map entry (phys and len copied by the caller,
 * whose count check keeps nb_maps within AVP_MEMMAP_MAX); entries lie end
 * to end in the data block, and each must end inside it.
 */
static inline int
avp_xlate_add_map(struct avp_xlate *x, __u64 phys, __u64 len, const char **why)
{
	struct avp_map *m = &x->maps[x->nb_maps];
	__u64 off = 0;

	if (x->nb_maps)
		off = x->maps[x->nb_maps - 1].off + x->maps[x->nb_maps - 1].len;
	if (!len || len > x->data_size - off) {
		*why = "memory map larger than the shared memory";
		return -EINVAL;
	}
	m->phys = phys;
	m->len = len;
	m->off = off;
	x->nb_maps++;
	return 0;
}

/* Adds a pool whose bytes must lie wholly in one memory map entry. */
static inline int
avp_xlate_add_pool(struct avp_xlate *x, __u64 va, __u64 phys, __u64 len)
{
	__u8 *p = avp_xlate_phys(x, phys, len);

	if (!p || va + len < va || x->nb_pools >= AVP_MAX_POOLS)
		return -EINVAL;
	x->pools[x->nb_pools].va = va;
	x->pools[x->nb_pools].len = len;
	x->pools[x->nb_pools].addr = p;
	x->nb_pools++;
	return 0;
}

/*
 * The pools of a checked copy of the device info, once the memory map is
 * in. Single-pool hosts give only mbuf_va/phys: that pool runs to the end of
 * the memory map entry that holds mbuf_phys.
 */
static inline int
avp_xlate_add_pools(struct avp_xlate *x, const struct avp_device_info *info, const char **why)
{
	__u32 i;
	int ret = 0;

	for (i = 0; i < AVP_MAX_POOLS; i++) {
		if (!info->pool[i].length)
			continue;
		if (avp_xlate_add_pool(x, info->pool[i].va, info->pool[i].phys,
				       info->pool[i].length)) {
			*why = "buffer pool outside the shared memory";
			return -EINVAL;
		}
	}
	if (x->nb_pools)
		return 0;
	for (i = 0; i < x->nb_maps; i++) {
		const struct avp_map *m = &x->maps[i];
		__u64 off;

		if (avp_span_inside(m->phys, m->len, info->mbuf_phys, 1, &off)) {
			ret = avp_xlate_add_pool(x, info->mbuf_va, info->mbuf_phys, m->len - off);
			break;
		}
	}
	if (!x->nb_pools || ret) {
		*why = "no usable buffer pool";
		return -EINVAL;
	}
	return 0;
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
