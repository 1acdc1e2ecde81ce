/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The guest's view of one AVP device model: where a profile found the four
 * blocks (registers, memory map, device info, shared data), a validated copy
 * of the device info, and the translation of host addresses into pointers
 * inside the shared data. Every host-provided number passes through here
 * before it is dereferenced: the host is not trusted.
 */
#ifndef GSDK_AVP_MODEL_H
#define GSDK_AVP_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <avp/avp_device.h>
#include <avp/avp_host_checks.h>
#include <avp/avp_region.h>

/* Where a front end found the blocks; sizes bound every access. */
struct avp_blocks {
	volatile uint32_t *regs;     /* BAR0 or the region's register block; NULL if none */
	const volatile void *memmap; /* struct avp_memmap layout */
	uint64_t memmap_size;
	const volatile void *info; /* struct avp_device_info layout */
	uint64_t info_size;
	uint8_t *data; /* BAR2: host segments end to end */
	uint64_t data_size;
};

/* A FIFO we read or write, with our own copy of our index: the host can
 * scribble the shared one, and we never index slots with a value it chose
 * without masking it.
 *
 * The two indices share one cache line with the first slots (legacy
 * layout), and the host's core writes it: every read of the host's index is
 * a cross-core miss and every store of ours steals the line back. So the
 * host's index is cached (`peer`) and re-read only when the cached view
 * cannot satisfy a request, and ours is published only when it moved. */
struct avp_ring {
	struct avp_fifo *fifo;
	uint32_t mask;
	uint32_t mine;	       /* our index (write for producer, read for consumer) */
	uint32_t peer;	       /* host's index as last read and found inside the ring */
	bool index_bad;	       /* the host's index was beyond the ring at the last read */
	uint64_t index_errors; /* times the host's index went beyond the ring (kept on re-bind) */
};

/* The version of this guest driver, sent in the configure request. */
#define AVP_PMD_VERSION AVP_GUEST_VERSION

/*
 * Copies and checks the device info (magic, version, sizes, queue counts).
 * Returns 0 or a negative errno; *why names the first failed check.
 */
int avp_info_load(const struct avp_blocks *b, struct avp_device_info *out, const char **why);

/* Builds the translation from the memory map and the pools of `info`. */
int avp_xlate_build(struct avp_xlate *x, const struct avp_blocks *b,
		    const struct avp_device_info *info, const char **why);
void avp_xlate_free(struct avp_xlate *x);

/* Host-physical [phys, phys+len) -> guest pointer, or NULL if not wholly inside. */
static inline void *
avp_phys_to_guest(const struct avp_xlate *x, uint64_t phys, uint64_t len)
{
	return avp_xlate_phys(x, phys, len);
}

/*
 * A descriptor overlays the head of a host buffer, which is cache-line
 * aligned in every host; one that is not is refused rather than accessed
 * through a type that promises 64-byte alignment.
 */
static inline bool
avp_desc_aligned(const void *p)
{
	return ((uintptr_t)p & 63) == 0;
}

/* Host-virtual [va, va+len) -> guest pointer inside one pool, or NULL. */
static inline void *
avp_va_to_guest(const struct avp_xlate *x, uint64_t va, uint64_t len)
{
	return avp_xlate_va(x, va, len);
}

/*
 * Binds FIFO `idx` of a kind (base address and stride from the device info).
 * `producer` says which index is ours. Returns 0 or -EINVAL (why set).
 */
int avp_ring_bind(struct avp_ring *r, const struct avp_xlate *x, uint64_t base, uint32_t stride,
		  unsigned int idx, bool producer, const char **why);

static inline uint32_t
avp_ring_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void
avp_ring_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * A host index beyond the ring is refused, not masked: masked, it would
 * hand us slots the host never filled (or let us overwrite slots it has not
 * read). The last good view is kept, so the ring just looks stalled until
 * the host repairs it; each such episode is counted once.
 */
static inline bool
avp_ring_take_peer(struct avp_ring *r, uint32_t v)
{
	if (__builtin_expect(v > r->mask, 0)) {
		if (!r->index_bad)
			r->index_errors++;
		r->index_bad = true;
		return false;
	}
	r->index_bad = false;
	r->peer = v;
	return true;
}

/* Consumer side: entries available, re-reading the host's write index only
 * when the cached one shows fewer than `want`. */
static inline unsigned int
avp_ring_avail(struct avp_ring *r, unsigned int want)
{
	unsigned int avail = (r->peer - r->mine) & r->mask;

	if (avail < want && avp_ring_take_peer(r, avp_ring_load(&r->fifo->write)))
		avail = (r->peer - r->mine) & r->mask;
	return avail;
}

/* Consumer side: takes up to n slots. */
static inline unsigned int
avp_ring_get(struct avp_ring *r, uint64_t *out, unsigned int n)
{
	unsigned int avail = avp_ring_avail(r, n);
	unsigned int i;

	if (n > avail)
		n = avail;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		out[i] = ((volatile uint64_t *)r->fifo->slot)[(r->mine + i) & r->mask];
	r->mine = (r->mine + n) & r->mask;
	avp_ring_store(&r->fifo->read, r->mine);
	return n;
}

/* Producer side: room left, re-reading the host's read index only when the
 * cached one leaves less than `want`. */
static inline unsigned int
avp_ring_room(struct avp_ring *r, unsigned int want)
{
	unsigned int room = (r->peer - r->mine - 1) & r->mask;

	if (room < want && avp_ring_take_peer(r, avp_ring_load(&r->fifo->read)))
		room = (r->peer - r->mine - 1) & r->mask;
	return room;
}

/* Producer side: puts up to n slots. */
static inline unsigned int
avp_ring_put(struct avp_ring *r, const uint64_t *in, unsigned int n)
{
	unsigned int room = avp_ring_room(r, n);
	unsigned int i;

	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		((volatile uint64_t *)r->fifo->slot)[(r->mine + i) & r->mask] = in[i];
	r->mine = (r->mine + n) & r->mask;
	avp_ring_store(&r->fifo->write, r->mine);
	return n;
}

#endif /* GSDK_AVP_MODEL_H */
