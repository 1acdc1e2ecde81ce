/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing of our region header (profiles 2 and 3); see avp/avp_region.h. */
#include <errno.h>
#include <string.h>

#include "avp_region.h"

int
avp_region_parse(uint8_t *base, uint64_t len, struct avp_blocks *b, const char **why)
{
	struct avp_region_header h;
	int ret;

	if (len < sizeof(h)) {
		*why = "region smaller than its header";
		return -EINVAL;
	}
	/*
	 * The host stores the magic last: once we see it, the rest is written.
	 * Not there yet is -EAGAIN here (the caller waits for a host still
	 * setting up), where the kernel driver refuses the device.
	 */
	if (__atomic_load_n((uint32_t *)base, __ATOMIC_ACQUIRE) != AVP_REGION_MAGIC) {
		*why = "no AVP region magic";
		return -EAGAIN;
	}
	memcpy(&h, base, sizeof(h));
	ret = avp_region_header_check(&h, len, "region total_size larger than the mapping", why);
	if (ret)
		return ret;
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
