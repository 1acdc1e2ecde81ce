/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Copying a frame between two lists of byte runs (host buffers on one side,
 * an mbuf chain on the other), optionally adding or removing a VLAN tag on
 * the way. Used by the receive and transmit slow paths.
 */
#ifndef GSDK_AVP_COPY_H
#define GSDK_AVP_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_memcpy.h>

/* A run of bytes; packets on both sides are lists of these. */
struct span {
	uint8_t *p;
	uint32_t len;
};

struct cursor {
	const struct span *s;
	unsigned int n;
	unsigned int i;
	uint32_t off;
};

static inline void
cursor_settle(struct cursor *c)
{
	while (c->i < c->n && c->off >= c->s[c->i].len) {
		c->i++;
		c->off = 0;
	}
}

/* Copies len bytes; callers size both sides, the bounds checks are a backstop. */
static inline void
cursor_copy(struct cursor *dst, struct cursor *src, uint32_t len)
{
	while (len > 0) {
		uint32_t c;

		cursor_settle(dst);
		cursor_settle(src);
		if (dst->i >= dst->n || src->i >= src->n)
			return;
		c = RTE_MIN(len, dst->s[dst->i].len - dst->off);
		c = RTE_MIN(c, src->s[src->i].len - src->off);
		rte_memcpy(dst->s[dst->i].p + dst->off, src->s[src->i].p + src->off, c);
		dst->off += c;
		src->off += c;
		len -= c;
	}
}

static inline void
cursor_skip(struct cursor *c, uint32_t len)
{
	while (len > 0) {
		uint32_t k;

		cursor_settle(c);
		if (c->i >= c->n)
			return;
		k = RTE_MIN(len, c->s[c->i].len - c->off);
		c->off += k;
		len -= k;
	}
}

/* Copies the packet body, adding (tag != NULL) or removing (strip) a VLAN tag. */
static inline void
copy_frame(struct cursor *dst, struct cursor *src, uint32_t src_len, const uint8_t *tag, bool strip)
{
	if (tag != NULL) {
		struct span t = {(uint8_t *)(uintptr_t)tag, RTE_VLAN_HLEN};
		struct cursor tc = {&t, 1, 0, 0};

		cursor_copy(dst, src, 2 * RTE_ETHER_ADDR_LEN);
		cursor_copy(dst, &tc, RTE_VLAN_HLEN);
		cursor_copy(dst, src, src_len - 2 * RTE_ETHER_ADDR_LEN);
	} else if (strip) {
		cursor_copy(dst, src, 2 * RTE_ETHER_ADDR_LEN);
		cursor_skip(src, RTE_VLAN_HLEN);
		cursor_copy(dst, src, src_len - 2 * RTE_ETHER_ADDR_LEN - RTE_VLAN_HLEN);
	} else {
		cursor_copy(dst, src, src_len);
	}
}

static inline void
vlan_tag_bytes(uint8_t tag[RTE_VLAN_HLEN], uint16_t tci)
{
	tag[0] = RTE_ETHER_TYPE_VLAN >> 8;
	tag[1] = RTE_ETHER_TYPE_VLAN & 0xff;
	tag[2] = tci >> 8;
	tag[3] = tci & 0xff;
}

#endif /* GSDK_AVP_COPY_H */
