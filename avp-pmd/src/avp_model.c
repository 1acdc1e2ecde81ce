/* SPDX-License-Identifier: BSD-3-Clause */
/* Device info validation and host-address translation (see avp_model.h). */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "avp_model.h"

static bool
is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

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
	/* A guest accepts a host whose release.major is not newer than its own. */
	if (AVP_VERSION_RELMAJ(out->version) > AVP_VERSION_RELMAJ(AVP_PMD_VERSION)) {
		*why = "host version newer than this driver";
		return -ENOTSUP;
	}
	if (out->num_rx_queues == 0 || out->max_rx_queues == 0 || out->num_tx_queues == 0 ||
	    out->max_tx_queues == 0 || out->max_rx_queues > AVP_MAX_QUEUES ||
	    out->max_tx_queues > AVP_MAX_QUEUES || out->num_rx_queues > out->max_rx_queues ||
	    out->num_tx_queues > out->max_tx_queues) {
		*why = "bad queue counts";
		return -EINVAL;
	}
	/* 64 bytes lets the smallest frame and a software VLAN tag fit one buffer. */
	if (out->mbuf_size < 64 || out->mbuf_size > UINT16_MAX) {
		*why = "bad buffer size";
		return -EINVAL;
	}
	if (out->max_rx_pkt_len < 64 || out->max_rx_pkt_len > UINT16_MAX) {
		*why = "bad max_rx_pkt_len";
		return -EINVAL;
	}
	out->ifname[AVP_IFNAME_SIZE - 1] = '\0';
	return 0;
}

void *
avp_phys_to_guest(const struct avp_xlate *x, uint64_t phys, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < x->nb_maps; i++) {
		const struct avp_map *m = &x->maps[i];
		uint64_t off = phys - m->phys;

		if (off < m->len && len <= m->len - off)
			return x->data + m->off + off;
	}
	return NULL;
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
	uint64_t off = 0;
	uint32_t count, i;

	if (mm == NULL || b->memmap_size < offsetof(struct avp_memmap, entry)) {
		*why = "memory map block too small";
		return -EINVAL;
	}
	if (mm->magic != AVP_MEMMAP_MAGIC) {
		*why = "bad memory map magic";
		return -EINVAL;
	}
	count = mm->count;
	if (count == 0 || count > AVP_MEMMAP_MAX ||
	    offsetof(struct avp_memmap, entry) + (uint64_t)count * sizeof(struct avp_memmap_entry) >
		    b->memmap_size) {
		*why = "bad memory map entry count";
		return -EINVAL;
	}
	for (i = 0; i < count; i++) {
		uint64_t len = mm->entry[i].length;

		x->maps[i].phys = mm->entry[i].host_phys;
		x->maps[i].len = len;
		x->maps[i].off = off;
		if (len == 0 || len > b->data_size - off) {
			*why = "memory map larger than the shared memory";
			return -EINVAL;
		}
		off += len;
	}
	x->nb_maps = count;
	return 0;
}

static int
add_pool(struct avp_xlate *x, uint64_t va, uint64_t phys, uint64_t len)
{
	uint8_t *g = avp_phys_to_guest(x, phys, len);

	if (g == NULL || va + len < va)
		return -EINVAL;
	x->pools[x->nb_pools].va = va;
	x->pools[x->nb_pools].len = len;
	x->pools[x->nb_pools].guest = g;
	x->nb_pools++;
	return 0;
}

int
avp_xlate_build(struct avp_xlate *x, const struct avp_blocks *b, const struct avp_device_info *info,
		const char **why)
{
	uint32_t i;
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

	for (i = 0; i < AVP_MAX_POOLS; i++) {
		if (info->pool[i].length == 0)
			continue;
		if (add_pool(x, info->pool[i].va, info->pool[i].phys, info->pool[i].length)) {
			*why = "buffer pool outside the shared memory";
			ret = -EINVAL;
			goto fail;
		}
	}
	if (x->nb_pools == 0) {
		/* Single-pool hosts give only mbuf_va/phys: the pool runs to the end
		 * of the memory map entry that holds it. */
		for (i = 0; i < x->nb_maps; i++) {
			const struct avp_map *m = &x->maps[i];
			uint64_t off = info->mbuf_phys - m->phys;

			if (off < m->len) {
				ret = add_pool(x, info->mbuf_va, info->mbuf_phys, m->len - off);
				break;
			}
		}
		if (x->nb_pools == 0 || ret) {
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
	if (!is_pow2(len) || len < 2 || (stride != 0 && AVP_FIFO_BYTES(len) > stride) ||
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
