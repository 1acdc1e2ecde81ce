// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and checking of what the AVP host shares: the region header of the
 * ivshmem profile, the device info, the memory map and pools, the FIFOs.
 * See avp_shm.h; nothing here trusts a number the host wrote.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "avp_shm.h"

/* A block of the region: inside it, after the header, page aligned, big enough. */
static bool
avp_block_ok(u64 off, u64 size, u64 min, u64 total)
{
	return size >= min && off >= sizeof(struct avp_region_header) && off <= total &&
	       size <= total - off && IS_ALIGNED(off, AVP_REGION_ALIGN);
}

int
avp_region_parse(u8 *base, u64 len, struct avp_blocks *b, const char **why)
{
	struct avp_region_header h;

	if (len < sizeof(h)) {
		*why = "region smaller than its header";
		return -EINVAL;
	}
	/* The host stores the magic last: once it is there, the rest is written. */
	if (smp_load_acquire((u32 *)base) != AVP_REGION_MAGIC) {
		*why = "no AVP region magic";
		return -ENODEV;
	}
	/* One copy: later host writes cannot change what was checked. */
	memcpy(&h, base, sizeof(h));
	if (h.version != AVP_REGION_VERSION) {
		*why = "unsupported region version";
		return -EINVAL;
	}
	if (h.total_size > len || h.total_size < sizeof(h)) {
		*why = "region total_size larger than the BAR";
		return -EINVAL;
	}
	if (!avp_block_ok(h.regs_offset, h.regs_size, AVP_REG_BLOCK_SIZE, h.total_size) ||
	    !avp_block_ok(h.memmap_offset, h.memmap_size, offsetof(struct avp_memmap, entry),
			  h.total_size) ||
	    !avp_block_ok(h.devinfo_offset, h.devinfo_size, sizeof(struct avp_device_info),
			  h.total_size) ||
	    !avp_block_ok(h.data_offset, h.data_size, 1, h.total_size)) {
		*why = "region block outside the region";
		return -EINVAL;
	}
	memset(b, 0, sizeof(*b));
	b->regs = (u32 *)(base + h.regs_offset);
	b->memmap = base + h.memmap_offset;
	b->memmap_size = h.memmap_size;
	b->info = base + h.devinfo_offset;
	b->info_size = h.devinfo_size;
	b->data = base + h.data_offset;
	b->data_size = h.data_size;

	/* Interrupts are optional: a bad area means polling, not a refused device. */
	if (h.irq_offset &&
	    avp_block_ok(h.irq_offset, h.irq_size, sizeof(struct avp_irq_area), h.total_size)) {
		struct avp_irq_area *irq = (struct avp_irq_area *)(base + h.irq_offset);
		u32 nb = READ_ONCE(irq->nb_vectors);

		if (READ_ONCE(irq->magic) == AVP_IRQ_MAGIC && nb >= 1 && nb <= AVP_IRQ_MAX_VECTORS)
			b->irq = irq;
	}
	return 0;
}

int
avp_info_load(const struct avp_blocks *b, struct avp_device_info *out, u32 driver_version,
	      const char **why)
{
	if (!b->info || b->info_size < sizeof(*out)) {
		*why = "device info block too small";
		return -EINVAL;
	}
	/* acquire: the host writes the magic last */
	if (smp_load_acquire((const u32 *)b->info) != AVP_DEVICE_MAGIC) {
		*why = "bad device info magic";
		return -EINVAL;
	}
	memcpy(out, b->info, sizeof(*out));
	/* A guest accepts a host whose release.major is not newer than its own. */
	if (AVP_VERSION_RELMAJ(out->version) > AVP_VERSION_RELMAJ(driver_version)) {
		*why = "host version newer than this driver";
		return -EOPNOTSUPP;
	}
	if (!out->max_rx_queues || !out->max_tx_queues || out->max_rx_queues > AVP_MAX_QUEUES ||
	    out->max_tx_queues > AVP_MAX_QUEUES) {
		*why = "bad queue counts";
		return -EINVAL;
	}
	/* The smallest frame must fit one buffer; lengths travel as u16. */
	if (out->mbuf_size < AVP_MIN_BUFFER || out->mbuf_size > U16_MAX) {
		*why = "bad buffer size";
		return -EINVAL;
	}
	if (out->max_rx_pkt_len < AVP_MIN_BUFFER || out->max_rx_pkt_len > U16_MAX) {
		*why = "bad max_rx_pkt_len";
		return -EINVAL;
	}
	out->ifname[AVP_IFNAME_SIZE - 1] = '\0';
	return 0;
}

void *
avp_phys_to_kernel(const struct avp_xlate *x, u64 phys, u64 len)
{
	u32 i;

	for (i = 0; i < x->nb_maps; i++) {
		const struct avp_map *m = &x->maps[i];
		u64 off = phys - m->phys;

		if (off < m->len && len <= m->len - off)
			return x->data + m->off + off;
	}
	return NULL;
}

void
avp_xlate_free(struct avp_xlate *x)
{
	kvfree(x->maps);
	memset(x, 0, sizeof(*x));
}

static int
avp_load_maps(struct avp_xlate *x, const struct avp_blocks *b, const char **why)
{
	const struct avp_memmap *mm = b->memmap;
	u64 off = 0;
	u32 count, i;

	if (!mm || b->memmap_size < offsetof(struct avp_memmap, entry)) {
		*why = "memory map block too small";
		return -EINVAL;
	}
	/* acquire: the host writes the magic last */
	if (smp_load_acquire(&mm->magic) != AVP_MEMMAP_MAGIC) {
		*why = "bad memory map magic";
		return -EINVAL;
	}
	count = READ_ONCE(mm->count);
	if (!count || count > AVP_MEMMAP_MAX ||
	    offsetof(struct avp_memmap, entry) + (u64)count * sizeof(struct avp_memmap_entry) >
		    b->memmap_size) {
		*why = "bad memory map entry count";
		return -EINVAL;
	}
	for (i = 0; i < count; i++) {
		struct avp_map *m = &x->maps[i];

		m->phys = READ_ONCE(mm->entry[i].host_phys);
		m->len = READ_ONCE(mm->entry[i].length);
		m->off = off;
		if (!m->len || m->len > b->data_size - off) {
			*why = "memory map larger than the shared memory";
			return -EINVAL;
		}
		off += m->len;
	}
	x->nb_maps = count;
	return 0;
}

static int
avp_add_pool(struct avp_xlate *x, u64 va, u64 phys, u64 len)
{
	u8 *p = avp_phys_to_kernel(x, phys, len);

	if (!p || va + len < va || x->nb_pools >= AVP_MAX_POOLS)
		return -EINVAL;
	x->pools[x->nb_pools].va = va;
	x->pools[x->nb_pools].len = len;
	x->pools[x->nb_pools].addr = p;
	x->nb_pools++;
	return 0;
}

int
avp_xlate_build(struct avp_xlate *x, const struct avp_blocks *b, const struct avp_device_info *info,
		const char **why)
{
	u32 i;
	int ret;

	memset(x, 0, sizeof(*x));
	x->data = b->data;
	x->data_size = b->data_size;
	x->maps = kvcalloc(AVP_MEMMAP_MAX, sizeof(*x->maps), GFP_KERNEL);
	if (!x->maps) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = avp_load_maps(x, b, why);
	if (ret)
		goto fail;

	for (i = 0; i < AVP_MAX_POOLS; i++) {
		if (!info->pool[i].length)
			continue;
		if (avp_add_pool(x, info->pool[i].va, info->pool[i].phys, info->pool[i].length)) {
			*why = "buffer pool outside the shared memory";
			ret = -EINVAL;
			goto fail;
		}
	}
	if (!x->nb_pools) {
		/* Single-pool hosts give only mbuf_va/phys: the pool runs to the
		 * end of the memory map entry that holds it.
		 */
		for (i = 0; i < x->nb_maps; i++) {
			const struct avp_map *m = &x->maps[i];
			u64 off = info->mbuf_phys - m->phys;

			if (off < m->len) {
				ret = avp_add_pool(x, info->mbuf_va, info->mbuf_phys, m->len - off);
				break;
			}
		}
		if (!x->nb_pools || ret) {
			*why = "no usable buffer pool";
			ret = -EINVAL;
			goto fail;
		}
	}
	return 0;
fail:
	avp_xlate_free(x);
	return ret;
}

int
avp_ring_bind(struct avp_ring *r, const struct avp_xlate *x, u64 base, u32 stride, unsigned int idx,
	      bool producer, const char **why)
{
	u64 at = base + (u64)idx * stride;
	struct avp_fifo *f = avp_phys_to_kernel(x, at, AVP_FIFO_HEADER_SIZE);
	u32 len, elem, mine, peer;

	memset(r, 0, sizeof(*r));
	if (!f) {
		*why = "FIFO outside the shared memory";
		return -EINVAL;
	}
	if (!IS_ALIGNED((unsigned long)f, 8)) {
		*why = "FIFO not 8-byte aligned";
		return -EINVAL;
	}
	len = READ_ONCE(f->len);
	elem = READ_ONCE(f->elem_size);
	if (len < 2 || !is_power_of_2(len) || (stride && AVP_FIFO_BYTES(len) > stride) ||
	    !avp_phys_to_kernel(x, at, AVP_FIFO_BYTES(len))) {
		*why = "bad FIFO length";
		return -EINVAL;
	}
	if (elem != sizeof(u64)) {
		*why = "bad FIFO element size";
		return -EINVAL;
	}
	mine = producer ? READ_ONCE(f->write) : READ_ONCE(f->read);
	/* acquire: the peer's slots are read after its index */
	peer = producer ? smp_load_acquire(&f->read) : smp_load_acquire(&f->write);
	if (mine >= len || peer >= len) {
		*why = "FIFO index out of range";
		return -EINVAL;
	}
	r->fifo = f;
	r->len = len;
	r->mask = len - 1;
	r->mine = mine;
	r->published = mine;
	r->peer = peer;
	return 0;
}
