/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Our AVP region (profiles 2 "ivshmem PCI" and 3 "file"): one flat shared
 * region that carries everything the legacy layout spreads over BAR0/2/4/5.
 * For ivshmem the region is BAR2 of an ivshmem-plain/doorbell device; for the
 * file profile it is a file (e.g. /dev/shm/NAME) mapped whole.
 *
 *   offset 0          struct avp_region_header
 *   regs_offset       emulated BAR0: four uint32_t at AVP_REG_* offsets
 *   memmap_offset     struct avp_memmap (same format as BAR4)
 *   devinfo_offset    struct avp_device_info (same format as BAR5)
 *   data_offset       the host segments concatenated (what BAR2 holds):
 *                     memory map entry k starts at data_offset + sum of the
 *                     lengths of entries 0..k-1
 *   irq_offset        struct avp_irq_area (0 when the host offers no interrupts)
 *
 * Every offset/size is bounded by total_size, and every block starts on a
 * 4 KiB boundary (data on a 2 MiB one when the host uses huge pages). A guest
 * must check all of this (and the magics) before use: the host is untrusted.
 *
 * ivshmem-plain has no interrupts, so the guest polls the registers: a
 * migration event is pending whenever migration status != migration ack.
 * The host sets AVP_MIGRATION_INTERRUPT in interrupt status too (when the
 * mask enables it) for guests that prefer that; the guest clears it by
 * atomically exchanging it with 0, since a shared word cannot clear on read.
 */
#ifndef AVP_REGION_H
#define AVP_REGION_H

#include "avp_device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AVP_REGION_MAGIC   0x52505641u /* bytes "AVPR" on little-endian */
#define AVP_REGION_VERSION 1
#define AVP_REGION_ALIGN   4096

struct avp_region_header {
	uint32_t magic;	     /* AVP_REGION_MAGIC, stored last by the host */
	uint32_t version;    /* AVP_REGION_VERSION: layout of this header */
	uint64_t total_size; /* bytes of the whole region */
	uint64_t regs_offset;
	uint64_t regs_size; /* >= AVP_REG_BLOCK_SIZE */
	uint64_t memmap_offset;
	uint64_t memmap_size; /* >= 16 + 24 * count */
	uint64_t devinfo_offset;
	uint64_t devinfo_size; /* >= sizeof(struct avp_device_info) */
	uint64_t data_offset;
	uint64_t data_size; /* == sum of memory map entry lengths */
	uint32_t host_pid;  /* informational: the switch process */
	uint32_t reserved0;
	uint64_t irq_offset; /* struct avp_irq_area, or 0: no interrupts offered */
	uint64_t irq_size;   /* >= sizeof(struct avp_irq_area) when irq_offset != 0 */
	uint32_t reserved[2];
};

AVP_AT(avp_region_header, magic, 0);
AVP_AT(avp_region_header, version, 4);
AVP_AT(avp_region_header, total_size, 8);
AVP_AT(avp_region_header, regs_offset, 16);
AVP_AT(avp_region_header, regs_size, 24);
AVP_AT(avp_region_header, memmap_offset, 32);
AVP_AT(avp_region_header, memmap_size, 40);
AVP_AT(avp_region_header, devinfo_offset, 48);
AVP_AT(avp_region_header, devinfo_size, 56);
AVP_AT(avp_region_header, data_offset, 64);
AVP_AT(avp_region_header, data_size, 72);
AVP_AT(avp_region_header, host_pid, 80);
AVP_AT(avp_region_header, irq_offset, 88);
AVP_AT(avp_region_header, irq_size, 96);
AVP_LAYOUT_ASSERT(sizeof(struct avp_region_header) == 112, "region header size");

/*
 * Interrupts through ivshmem-doorbell (the switch plays QEMU's ivshmem
 * server and holds one eventfd per MSI-X vector of the guest's device).
 * Older hosts leave irq_offset zero (it was reserved); guests then poll.
 *
 * Vector 0: the migration status changed, or a control response was posted.
 * Vector 1 + q: queue q has work: frames on rx FIFO q, or buffers returned
 * to alloc FIFO q (a transmit queue stopped for want of buffers may wake).
 *
 * A queue's interrupt is edge-triggered and armed by the guest: it stores 1
 * in `armed` (then re-checks its FIFOs, so nothing posted in between is
 * missed); the host, after posting to that queue's rx or alloc FIFO,
 * exchanges `armed` with 0 and signals the vector only if it was 1. An
 * unarmed queue costs the host one read per burst and the guest nothing,
 * so a busy guest polls (NAPI) without interrupts at all.
 *
 * The other way, guest to host, the switch polls the guest's FIFOs. When it
 * has found nothing for a while it may sleep instead, if every guest it
 * serves promised to wake it: the host offers `wake_offered` = 1 and the
 * value `wake_doorbell` to write into ivshmem's Doorbell register (BAR0
 * offset 12: the switch's own peer id << 16 | vector); a guest that uses
 * its MSI-X vectors stores 1 in `guest_rings`. Before sleeping the host
 * stores 1 in `host_asleep` and re-reads every FIFO; a guest, after
 * publishing tx or free FIFO entries, exchanges `host_asleep` with 0 and
 * rings only if it was 1. A guest that promised and does not ring only
 * delays its own frames: the host sleeps 10 ms at most.
 *
 * Control requests likewise: a host that offers it stores in
 * `ctrl_doorbell` the value that has a posted request served at once (its
 * own peer id << 16 | vector 1); a guest writes it into the Doorbell
 * register after publishing the req FIFO. 0: not offered, the host polls
 * for requests (every millisecond while busy, every 16 ms at most when
 * idle), as it does for a guest that does not ring.
 */
#define AVP_IRQ_MAGIC		0x51524941u /* bytes "AIRQ" */
#define AVP_IRQ_VECTOR_CONTROL	0
#define AVP_IRQ_VECTOR_QUEUE(q) (1 + (q))
#define AVP_IRQ_MAX_VECTORS	(1 + AVP_MAX_QUEUES)
/* ivshmem's Doorbell register, in BAR0 of the ivshmem device */
#define AVP_IVSHMEM_DOORBELL_REG 12

struct avp_irq_line {
	uint32_t armed;	 /* guest stores 1, host exchanges with 0 */
	uint32_t raised; /* host's count of signals sent (diagnostic) */
	uint8_t pad[56]; /* one cache line per queue */
};

struct avp_irq_area {
	uint32_t magic;	     /* AVP_IRQ_MAGIC */
	uint32_t nb_vectors; /* vectors the host signals, <= AVP_IRQ_MAX_VECTORS */
	uint32_t wake_offered;	/* host: 1 = it may sleep until rung */
	uint32_t wake_doorbell; /* host: what to write into the Doorbell register */
	uint32_t guest_rings;	/* guest stores 1: it rings when host_asleep is set */
	uint32_t host_asleep;	/* host stores 1, guest exchanges with 0 */
	uint32_t ctrl_doorbell; /* host: what to write after posting a control request; 0: none */
	uint8_t pad[36];
	struct avp_irq_line queue[AVP_MAX_QUEUES];
};

AVP_AT(avp_irq_area, nb_vectors, 4);
AVP_AT(avp_irq_area, wake_offered, 8);
AVP_AT(avp_irq_area, wake_doorbell, 12);
AVP_AT(avp_irq_area, guest_rings, 16);
AVP_AT(avp_irq_area, host_asleep, 20);
AVP_AT(avp_irq_area, ctrl_doorbell, 24);
AVP_AT(avp_irq_area, queue, 64);
AVP_LAYOUT_ASSERT(sizeof(struct avp_irq_line) == 64, "irq line size");
AVP_LAYOUT_ASSERT(sizeof(struct avp_irq_area) == 64 + 64 * AVP_MAX_QUEUES, "irq area size");

#ifdef __cplusplus
}
#endif

#endif /* AVP_REGION_H */
