// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing and checking of what the AVP host shares: the region header of the
 * ivshmem profile, the device info, the memory map and pools, the FIFOs.
 * See avp_shm.h; nothing here trusts a number the host wrote.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "avp_shm.h"

int
avp_region_parse(u8 *base, u64 len, struct avp_blocks *b, const char **why)
{
	struct avp_region_header h;
	int ret;

	if (len < sizeof(h)) {
		*why = "region smaller than its header";
		return -EINVAL;
	}
	/*
	 * The host stores the magic last: once it is there, the rest is written.
	 * No magic refuses the device here (the DPDK driver answers -EAGAIN).
	 */
	if (smp_load_acquire((u32 *)base) != AVP_REGION_MAGIC) {
		*why = "no AVP region magic";
		return -ENODEV;
	}
	/* One copy: later host writes cannot change what was checked. */
	memcpy(&h, base, sizeof(h));
	ret = avp_region_header_check(&h, len, "region total_size larger than the BAR", why);
	if (ret)
		return ret;
	memset(b, 0, sizeof(*b));
	b->regs = (u32 *)(base + h.regs_offset);
	b->memmap = base + h.memmap_offset;
	b->memmap_size = h.memmap_size;
	b->info = base + h.devinfo_offset;
	b->info_size = h.devinfo_size;
	b->data = base + h.data_offset;
	b->data_size = h.data_size;

	/*
	 * Interrupts are optional (and only this driver uses them): a bad area
	 * means polling, not a refused device.
	 */
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
	/* The queue counts this driver uses are its own choice (module parameters). */
	return avp_info_check(out, driver_version, false, why);
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
	u32 count, i;
	int ret;

	if (!mm || b->memmap_size < AVP_MEMMAP_HEADER_SIZE) {
		*why = "memory map block too small";
		return -EINVAL;
	}
	/* acquire: the host writes the magic last */
	if (smp_load_acquire(&mm->magic) != AVP_MEMMAP_MAGIC) {
		*why = "bad memory map magic";
		return -EINVAL;
	}
	count = READ_ONCE(mm->count);
	ret = avp_memmap_count_check(count, b->memmap_size, why);
	if (ret)
		return ret;
	for (i = 0; i < count; i++) {
		ret = avp_xlate_add_map(x, READ_ONCE(mm->entry[i].host_phys),
					READ_ONCE(mm->entry[i].length), why);
		if (ret)
			return ret;
	}
	return 0;
}

int
avp_xlate_build(struct avp_xlate *x, const struct avp_blocks *b, const struct avp_device_info *info,
		const char **why)
{
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

	ret = avp_xlate_add_pools(x, info, why);
	if (ret)
		goto fail;
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
	if (!avp_fifo_len_ok(len, stride) || !avp_phys_to_kernel(x, at, AVP_FIFO_BYTES(len))) {
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
