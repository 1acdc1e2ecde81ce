/* SPDX-License-Identifier: BSD-3-Clause */
/* Device info validation and host-address translation (see avp_model.h). */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "avp_model.h"

int
avp_info_load(const struct avp_blocks *b, struct avp_device_info *out, const char **why)
{
	if (b->info == NULL || b->info_size < sizeof(*out)) {
		*why = "device info block too small";
		return -EINVAL;
	}
	/* One copy: later host writes cannot change what we validated. */
	memcpy(out, (const void *)b->info, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);

	if (out->magic != AVP_DEVICE_MAGIC) {
		*why = "bad device info magic";
		return -EINVAL;
	}
	/* This driver starts the queue counts the host advertises: they must be usable. */
	return avp_info_check(out, AVP_PMD_VERSION, true, why);
}

void
avp_xlate_free(struct avp_xlate *x)
{
	rte_free(x->maps);
	memset(x, 0, sizeof(*x));
}

static int
load_maps(struct avp_xlate *x, const struct avp_blocks *b, const char **why)
{
	const volatile struct avp_memmap *mm = b->memmap;
	uint32_t count, i;
	int ret;

	if (mm == NULL || b->memmap_size < AVP_MEMMAP_HEADER_SIZE) {
		*why = "memory map block too small";
		return -EINVAL;
	}
	if (mm->magic != AVP_MEMMAP_MAGIC) {
		*why = "bad memory map magic";
		return -EINVAL;
	}
	count = mm->count;
	ret = avp_memmap_count_check(count, b->memmap_size, why);
	if (ret)
		return ret;
	for (i = 0; i < count; i++) {
		ret = avp_xlate_add_map(x, mm->entry[i].host_phys, mm->entry[i].length, why);
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
	x->maps = rte_zmalloc("gsdk_avp_maps", sizeof(*x->maps) * AVP_MEMMAP_MAX, 0);
	if (x->maps == NULL) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = load_maps(x, b, why);
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
avp_ring_bind(struct avp_ring *r, const struct avp_xlate *x, uint64_t base, uint32_t stride,
	      unsigned int idx, bool producer, const char **why)
{
	uint64_t at = base + (uint64_t)idx * stride;
	struct avp_fifo *f = avp_phys_to_guest(x, at, AVP_FIFO_HEADER_SIZE);
	uint64_t index_errors = r->index_errors; /* counters survive a re-bind (migration) */
	uint32_t len;

	memset(r, 0, sizeof(*r));
	r->index_errors = index_errors;
	if (f == NULL) {
		*why = "FIFO outside the shared memory";
		return -EINVAL;
	}
	if ((uintptr_t)f & 7) {
		*why = "FIFO not 8-byte aligned";
		return -EINVAL;
	}
	len = *(volatile uint32_t *)&f->len;
	if (!avp_fifo_len_ok(len, stride) ||
	    avp_phys_to_guest(x, at, AVP_FIFO_BYTES(len)) == NULL) {
		*why = "bad FIFO length";
		return -EINVAL;
	}
	if (*(volatile uint32_t *)&f->elem_size != sizeof(uint64_t)) {
		*why = "bad FIFO element size";
		return -EINVAL;
	}
	r->fifo = f;
	r->mask = len - 1;
	r->mine = (producer ? avp_ring_load(&f->write) : avp_ring_load(&f->read)) & r->mask;
	r->peer = (producer ? avp_ring_load(&f->read) : avp_ring_load(&f->write)) & r->mask;
	return 0;
}
