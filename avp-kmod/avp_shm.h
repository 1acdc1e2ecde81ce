/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's view of the memory an AVP host shares with it: where the
 * profile found the blocks, a checked copy of the device info, the
 * translation of host addresses into kernel pointers, and the FIFOs.
 *
 * This is the trust boundary of the driver. The host is not trusted: every
 * address or length it wrote is translated here and checked to lie wholly
 * inside the shared memory before anything is dereferenced, and indices are
 * checked against the FIFO length before they select a slot.
 */
#ifndef AVP_SHM_H
#define AVP_SHM_H

#include <linux/compiler.h>
#include <linux/types.h>

#include <avp/avp_device.h>
#include <avp/avp_host_checks.h>
#include <avp/avp_region.h>

/* Where a profile found the blocks of one device; sizes bound every access. */
struct avp_blocks {
	u32 *regs;		  /* emulated BAR0 inside the region; NULL on the legacy layout */
	u32 __iomem *mmio_regs;	  /* legacy BAR0; NULL in the region profile */
	const void *memmap;	  /* struct avp_memmap layout */
	u64 memmap_size;	  /* bytes readable at memmap */
	const void *info;	  /* struct avp_device_info layout */
	u64 info_size;		  /* bytes readable at info */
	u8 *data;		  /* the host segments end to end (legacy BAR2) */
	u64 data_size;		  /* bytes of data */
	struct avp_irq_area *irq; /* interrupt area (region profile), NULL if not offered */
};

/*
 * A FIFO we produce into or consume from. Our own index lives here and is
 * only published to the host, never read back: a host that scribbles on it
 * cannot make us index outside the slots. The host's index is re-read only
 * when the cached one cannot satisfy a request, since each read of the
 * line the host writes is a cross-core miss.
 */
struct avp_ring {
	struct avp_fifo *fifo; /* in shared memory */
	u32 len;	       /* slots, a power of two (capacity len - 1) */
	u32 mask;	       /* len - 1 */
	u32 mine;	       /* our index: write for a producer, read for a consumer */
	u32 peer;	       /* host's index as last read, always < len */
	u32 published;	       /* our index as the host last saw it */
	bool bad_index;	       /* the host's index is >= len right now */
	bool bad_news;	       /* it just became so: to be counted once */
};

/* Region (ivshmem/file profile) header parsing: fills *b from the mapping. */
int avp_region_parse(u8 *base, u64 len, struct avp_blocks *b, const char **why);

/* Copies and checks the device info; *why names the first failed check. */
int avp_info_load(const struct avp_blocks *b, struct avp_device_info *out, u32 driver_version,
		  const char **why);

/* Builds the translation from the memory map and the pools of *info. */
int avp_xlate_build(struct avp_xlate *x, const struct avp_blocks *b,
		    const struct avp_device_info *info, const char **why);
void avp_xlate_free(struct avp_xlate *x);

/* Host-physical [phys, phys + len) to a kernel pointer, or NULL if not wholly inside. */
static inline void *
avp_phys_to_kernel(const struct avp_xlate *x, u64 phys, u64 len)
{
	return avp_xlate_phys(x, phys, len);
}

/* Host-virtual [va, va + len) to a kernel pointer inside one pool, or NULL. */
static inline void *
avp_va_to_kernel(const struct avp_xlate *x, u64 va, u64 len)
{
	return avp_xlate_va(x, va, len);
}

/*
 * A descriptor address: one whole descriptor inside a pool, 64-byte aligned
 * (every host lays descriptors on cache lines; an unaligned one is refused
 * rather than accessed through a type that promises alignment).
 */
static inline struct avp_desc *
avp_desc_at(const struct avp_xlate *x, u64 va)
{
	void *p = avp_va_to_kernel(x, va, sizeof(struct avp_desc));

	if (!p || ((unsigned long)p & (sizeof(struct avp_desc) - 1)))
		return NULL;
	return p;
}

/* Binds FIFO idx of a kind (base and stride from the device info). */
int avp_ring_bind(struct avp_ring *r, const struct avp_xlate *x, u64 base, u32 stride,
		  unsigned int idx, bool producer, const char **why);

/*
 * Loads the host's index; one >= len reads as no change (the ring looks
 * stalled until the host repairs it) and each such episode is reported once
 * by avp_ring_take_bad().
 */
static inline u32
avp_ring_peer_load(struct avp_ring *r, bool producer)
{
	u32 *idx = producer ? &r->fifo->read : &r->fifo->write;
	/* acquire: the slots the peer filled are read after its index */
	u32 v = smp_load_acquire(idx);

	if (unlikely(v >= r->len)) {
		if (!r->bad_index)
			r->bad_news = true;
		r->bad_index = true;
		return r->peer;
	}
	r->bad_index = false;
	return v;
}

/* True once per episode of a bad host index (for the error counters). */
static inline bool
avp_ring_take_bad(struct avp_ring *r)
{
	bool news = r->bad_news;

	r->bad_news = false;
	return news;
}

/* Consumer: entries available, re-reading the host's index only when short of want. */
static inline u32
avp_ring_avail(struct avp_ring *r, u32 want)
{
	u32 avail = (r->peer - r->mine) & r->mask;

	if (avail < want) {
		r->peer = avp_ring_peer_load(r, false);
		avail = (r->peer - r->mine) & r->mask;
	}
	return avail;
}

/* Consumer: the slot i entries past our index (i < avail). */
static inline u64
avp_ring_peek(const struct avp_ring *r, u32 i)
{
	return READ_ONCE(r->fifo->slot[(r->mine + i) & r->mask]);
}

/* Consumer: drops n entries (n <= avail); published by avp_ring_publish. */
static inline void
avp_ring_skip(struct avp_ring *r, u32 n)
{
	r->mine = (r->mine + n) & r->mask;
}

/* Producer: room left, re-reading the host's index only when short of want. */
static inline u32
avp_ring_room(struct avp_ring *r, u32 want)
{
	u32 room = (r->peer - r->mine - 1) & r->mask;

	if (room < want) {
		r->peer = avp_ring_peer_load(r, true);
		room = (r->peer - r->mine - 1) & r->mask;
	}
	return room;
}

/* Producer: stores one slot past our index (room checked by the caller). */
static inline void
avp_ring_push(struct avp_ring *r, u64 v)
{
	WRITE_ONCE(r->fifo->slot[r->mine], v);
	r->mine = (r->mine + 1) & r->mask;
}

/*
 * Publishes our index: the release orders the slots (producer) or our reads
 * of them (consumer) before the host sees the index move. Skipped when it
 * did not move, so an idle poll writes nothing to the shared line.
 */
static inline void
avp_ring_publish(struct avp_ring *r, bool producer)
{
	u32 *idx = producer ? &r->fifo->write : &r->fifo->read;

	if (r->published == r->mine)
		return;
	r->published = r->mine;
	/* release: the slots we filled reach the peer before the index */
	smp_store_release(idx, r->mine);
}

#endif /* AVP_SHM_H */
