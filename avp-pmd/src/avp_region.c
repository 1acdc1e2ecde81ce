/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing of our region header (profiles 2 and 3); see avp/avp_region.h. */
#include <errno.h>
#include <string.h>

#include "avp_region.h"

static int
block_ok(uint64_t off, uint64_t size, uint64_t min, uint64_t total)
{
	return size >= min && off <= total && size <= total - off && off % AVP_REGION_ALIGN == 0 &&
	       off >= sizeof(struct avp_region_header);
}

int
avp_region_parse(uint8_t *base, uint64_t len, struct avp_blocks *b, const char **why)
{
	struct avp_region_header h;

	if (len < sizeof(h)) {
		*why = "region smaller than its header";
		return -EINVAL;
	}
	/* The host stores the magic last: once we see it, the rest is written. */
	if (__atomic_load_n((uint32_t *)base, __ATOMIC_ACQUIRE) != AVP_REGION_MAGIC) {
		*why = "no AVP region magic";
		return -EAGAIN;
	}
	memcpy(&h, base, sizeof(h));
	if (h.version != AVP_REGION_VERSION) {
		*why = "unsupported region version";
		return -EINVAL;
	}
	if (h.total_size > len || h.total_size < sizeof(h)) {
		*why = "region total_size larger than the mapping";
		return -EINVAL;
	}
	if (!block_ok(h.regs_offset, h.regs_size, AVP_REG_BLOCK_SIZE, h.total_size) ||
	    !block_ok(h.memmap_offset, h.memmap_size, offsetof(struct avp_memmap, entry),
		      h.total_size) ||
	    !block_ok(h.devinfo_offset, h.devinfo_size, sizeof(struct avp_device_info),
		      h.total_size) ||
	    !block_ok(h.data_offset, h.data_size, 1, h.total_size)) {
		*why = "region block outside the region";
		return -EINVAL;
	}
	memset(b, 0, sizeof(*b));
	b->regs = (volatile uint32_t *)(base + h.regs_offset);
	b->memmap = base + h.memmap_offset;
	b->memmap_size = h.memmap_size;
	b->info = base + h.devinfo_offset;
	b->info_size = h.devinfo_size;
	b->data = base + h.data_offset;
	b->data_size = h.data_size;
	return 0;
}
