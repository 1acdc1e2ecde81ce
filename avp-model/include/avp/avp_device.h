/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AVP device model: the memory layout a host switch and a guest driver share.
 *
 * Plain C with fixed-width types so the same declarations serve the DPDK
 * driver, the Linux kernel module, the host switch (C++) and tests. Layouts
 * are the x86-64 compatibility facts of docs/protocols/avp-device.md; every offset is
 * checked by a static assertion at the end of this file.
 *
 * Host addresses (FIFO slots, descriptor `next`/`data`, pool and sync VAs,
 * every *_phys) are numbers in the host's address spaces, never guest
 * pointers, which is why they are uint64_t here: the guest must translate
 * and bounds-check each one (see avp_region.h and docs/protocols/avp-device.md#addresses).
 */
#ifndef AVP_DEVICE_H
#define AVP_DEVICE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/stddef.h>
#else
#include <stdint.h>
#include <stddef.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- identity ---------------------------------------------------------- */

#define AVP_PCI_VENDOR_ID     0x1af4
#define AVP_PCI_DEVICE_ID     0x1110
#define AVP_PCI_SUB_VENDOR_ID 0x1af4
/* The subsystem device id is what tells a legacy AVP from plain ivshmem. */
#define AVP_PCI_SUB_DEVICE_ID	   0x1104
#define AVP_PCI_SUB_DEVICE_IVSHMEM 0x1100
#define AVP_PCI_CLASS		   0x050000 /* memory controller, "other" RAM */

/* ---- versions: release << 16 | major << 8 | minor ---------------------- */

#define AVP_MAKE_VERSION(rel, maj, min)                                                            \
	((((uint32_t)(rel)&0xffff) << 16) | (((uint32_t)(maj)&0xff) << 8) | ((uint32_t)(min)&0xff))
#define AVP_VERSION_RELEASE(v) (((v) >> 16) & 0xffff)
#define AVP_VERSION_MAJOR(v)   (((v) >> 8) & 0xff)
#define AVP_VERSION_MINOR(v)   ((v)&0xff)
/* Compatibility compares release.major only; minor never breaks the layout. */
#define AVP_VERSION_RELMAJ(v) ((v) >> 8)

/* What the original host advertised; our switch keeps it so old guests attach. */
#define AVP_HOST_VERSION AVP_MAKE_VERSION(1, 0, 1)
/* The newest guest version the original drivers knew (1.2.13). */
#define AVP_GUEST_VERSION AVP_MAKE_VERSION(1, 2, 13)

/* ---- BARs of the legacy PCI layout ------------------------------------- */

#define AVP_BAR_MMIO   0 /* registers below */
#define AVP_BAR_MSIX   1 /* MSI-X table, one vector */
#define AVP_BAR_MEMORY 2 /* host segments concatenated */
#define AVP_BAR_MEMMAP 4 /* struct avp_memmap */
#define AVP_BAR_DEVICE 5 /* struct avp_device_info */
#define AVP_BAR_COUNT  6

/* Register offsets inside BAR0 (and inside the emulated register block). */
#define AVP_REG_INTERRUPT_MASK	 0  /* all-ones enables, 0 disables */
#define AVP_REG_INTERRUPT_STATUS 4  /* clears on read (emulated: guest swaps in 0) */
#define AVP_REG_MIGRATION_STATUS 8  /* AVP_MIGRATION_* written by the host */
#define AVP_REG_MIGRATION_ACK	 12 /* AVP_MIGRATION_* the guest reached */
#define AVP_REG_BLOCK_SIZE	 16

#define AVP_INTERRUPTS_ALL	  0xffffffffu
#define AVP_INTERRUPTS_NONE	  0u
#define AVP_MIGRATION_INTERRUPT	  (1u << 1)
#define AVP_MIGRATION_MSIX_VECTOR 0

/* Migration status / ack values. */
#define AVP_MIGRATION_NONE     0
#define AVP_MIGRATION_DETACHED 1
#define AVP_MIGRATION_ATTACHED 2
#define AVP_MIGRATION_ERROR    3

/* ---- memory map (BAR4) -------------------------------------------------- */

#define AVP_MEMMAP_MAGIC   0x20131969u
#define AVP_MEMMAP_VERSION 1
#define AVP_MEMMAP_MAX	   2048

/* One exported host segment; entries are laid end to end in the data area. */
struct avp_memmap_entry {
	uint64_t host_va;
	uint64_t host_phys;
	uint64_t length;
};

struct avp_memmap {
	uint32_t magic;
	uint32_t version;
	uint32_t count;
	uint32_t reserved; /* natural alignment of the entries */
	struct avp_memmap_entry entry[AVP_MEMMAP_MAX];
};

/* ---- device info (BAR5) ------------------------------------------------- */

#define AVP_DEVICE_MAGIC	 0x20131975u
#define AVP_IFNAME_SIZE		 32
#define AVP_MAX_POOLS		 8
#define AVP_MAX_QUEUES		 8
#define AVP_MAX_SEGMENTS	 5    /* longest descriptor chain */
#define AVP_MAX_FRAME		 9238 /* documented max_rx_pkt_len */
#define AVP_FEATURE_VLAN_OFFLOAD (1u << 0)

#define AVP_MODE_HOST  0
#define AVP_MODE_GUEST 1
#define AVP_MODE_TRACE 2

/* A host buffer pool: VA and physical base of the same bytes. */
struct avp_pool {
	uint64_t va;
	uint64_t phys;
	uint64_t length;
};

struct avp_device_info {
	uint32_t magic;
	uint32_t version;
	char ifname[AVP_IFNAME_SIZE];
	/* host-physical base of queue 0 of each FIFO kind */
	uint64_t tx_phys;
	uint64_t rx_phys;
	uint64_t alloc_phys;
	uint64_t free_phys;
	uint32_t features;
	uint8_t min_rx_queues;
	uint8_t num_rx_queues;
	uint8_t max_rx_queues;
	uint8_t min_tx_queues;
	uint8_t num_tx_queues;
	uint8_t max_tx_queues;
	/* stride in bytes between FIFO i and i+1 of a kind */
	uint32_t tx_size;
	uint32_t rx_size;
	uint32_t alloc_size;
	uint32_t free_size;
	uint64_t req_phys;
	uint64_t resp_phys;
	uint64_t sync_phys;
	uint64_t sync_va; /* what travels on req/resp */
	uint64_t mbuf_va; /* pool 0 again, for single-pool guests */
	uint64_t mbuf_phys;
	struct avp_pool pool[AVP_MAX_POOLS]; /* unused entries have length 0 */
	uint8_t ethaddr[6];
	uint8_t mode;
	uint32_t mbuf_size; /* data room of one host buffer */
	uint64_t device_id; /* changes when the device is re-created/moved */
	uint32_t max_rx_pkt_len;
};

/* ---- FIFOs --------------------------------------------------------------- */

/*
 * Single-producer single-consumer ring of host addresses. Empty when
 * write == read; len is a power of two and one slot stays unused.
 * Producer: fill slots, write barrier, store write. Consumer: load write,
 * read barrier, read slots, store read. Access write/read with atomic
 * 32-bit loads/stores (volatile in the kernel).
 */
struct avp_fifo {
	uint32_t write;
	uint32_t read;
	uint32_t len;
	uint32_t elem_size; /* 8 */
	uint64_t slot[];
};
#define AVP_FIFO_HEADER_SIZE 16
#define AVP_FIFO_BYTES(len)  (AVP_FIFO_HEADER_SIZE + (uint64_t)(len)*8)

/* ---- buffer descriptor --------------------------------------------------- */

#define AVP_TX_VLAN_PKT 0x0001 /* ol_flags on tx: insert vlan_tci */
#define AVP_RX_VLAN_PKT 0x0800 /* ol_flags on rx: vlan_tci was stripped */

/* Overlays the head of a host buffer; one cache line. */
struct avp_desc {
	uint64_t reserved0;
	uint64_t pkt_mbuf; /* host's own handle; the guest leaves it alone */
	uint8_t reserved1[14];
	uint16_t ol_flags;
	uint64_t next; /* host VA of the next descriptor, 0 ends the chain */
	uint64_t data; /* host VA of this segment's bytes */
	uint16_t data_len;
	uint8_t nb_segs; /* first segment only */
	uint8_t reserved2;
	uint16_t pkt_len; /* first segment only: sum of data_len */
	uint32_t reserved3;
	uint16_t vlan_tci;
	uint32_t reserved4;
} __attribute__((packed, aligned(64)));

/* ---- control requests (sync area) ---------------------------------------- */

enum avp_request_id {
	AVP_REQ_UNKNOWN = 0,
	AVP_REQ_CHANGE_MTU = 1,
	AVP_REQ_CFG_NETWORK_IF = 2,
	AVP_REQ_CFG_DEVICE = 3,
	AVP_REQ_SHUTDOWN = 4,
	AVP_REQ_MAX = 5
};

#define AVP_DRIVER_UNKNOWN 0
#define AVP_DRIVER_DPDK	   1
#define AVP_DRIVER_KERNEL  2
#define AVP_DRIVER_QEMU	   3

struct avp_device_config {
	uint64_t device_id;	 /* the device_id the guest saw in device info */
	uint32_t driver_type;	 /* AVP_DRIVER_* */
	uint32_t driver_version; /* AVP_MAKE_VERSION */
	uint32_t features;	 /* negotiated AVP_FEATURE_* */
	uint16_t num_tx_queues;
	uint16_t num_rx_queues;
	uint8_t if_up;
} __attribute__((packed));

/*
 * Lives at the start of the sync area; the host writes `result` (0 or -errno).
 * The outer struct is packed but the union is not: the union keeps the 4-byte
 * alignment of new_mtu and so spans 28 bytes, which puts `result` at 32 in
 * the original drivers (checked against DPDK's unmodified net_avp).
 */
struct avp_request {
	uint32_t req_id;
	union {
		uint32_t new_mtu;
		uint8_t if_up;
		struct avp_device_config config;
	};
	int32_t result;
} __attribute__((packed));

/* ---- layout checks -------------------------------------------------------- */

#ifdef __cplusplus
#define AVP_LAYOUT_ASSERT(c, m) static_assert(c, m)
#else
#define AVP_LAYOUT_ASSERT(c, m) _Static_assert(c, m)
#endif
#define AVP_AT(type, field, off)                                                                   \
	AVP_LAYOUT_ASSERT(offsetof(struct type, field) == (off), #type "." #field)

AVP_AT(avp_memmap_entry, host_va, 0);
AVP_AT(avp_memmap_entry, host_phys, 8);
AVP_AT(avp_memmap_entry, length, 16);
AVP_LAYOUT_ASSERT(sizeof(struct avp_memmap_entry) == 24, "memmap entry size");
AVP_AT(avp_memmap, magic, 0);
AVP_AT(avp_memmap, version, 4);
AVP_AT(avp_memmap, count, 8);
AVP_AT(avp_memmap, entry, 16);
AVP_LAYOUT_ASSERT(sizeof(struct avp_memmap) == 16 + 24 * AVP_MEMMAP_MAX, "memmap size");

AVP_AT(avp_device_info, magic, 0);
AVP_AT(avp_device_info, version, 4);
AVP_AT(avp_device_info, ifname, 8);
AVP_AT(avp_device_info, tx_phys, 40);
AVP_AT(avp_device_info, rx_phys, 48);
AVP_AT(avp_device_info, alloc_phys, 56);
AVP_AT(avp_device_info, free_phys, 64);
AVP_AT(avp_device_info, features, 72);
AVP_AT(avp_device_info, min_rx_queues, 76);
AVP_AT(avp_device_info, num_rx_queues, 77);
AVP_AT(avp_device_info, max_rx_queues, 78);
AVP_AT(avp_device_info, min_tx_queues, 79);
AVP_AT(avp_device_info, num_tx_queues, 80);
AVP_AT(avp_device_info, max_tx_queues, 81);
AVP_AT(avp_device_info, tx_size, 84);
AVP_AT(avp_device_info, rx_size, 88);
AVP_AT(avp_device_info, alloc_size, 92);
AVP_AT(avp_device_info, free_size, 96);
AVP_AT(avp_device_info, req_phys, 104);
AVP_AT(avp_device_info, resp_phys, 112);
AVP_AT(avp_device_info, sync_phys, 120);
AVP_AT(avp_device_info, sync_va, 128);
AVP_AT(avp_device_info, mbuf_va, 136);
AVP_AT(avp_device_info, mbuf_phys, 144);
AVP_AT(avp_device_info, pool, 152);
AVP_AT(avp_device_info, ethaddr, 344);
AVP_AT(avp_device_info, mode, 350);
AVP_AT(avp_device_info, mbuf_size, 352);
AVP_AT(avp_device_info, device_id, 360);
AVP_AT(avp_device_info, max_rx_pkt_len, 368);
AVP_LAYOUT_ASSERT(sizeof(struct avp_device_info) == 376, "device info size");
AVP_LAYOUT_ASSERT(sizeof(struct avp_pool) == 24, "pool size");

AVP_AT(avp_fifo, write, 0);
AVP_AT(avp_fifo, read, 4);
AVP_AT(avp_fifo, len, 8);
AVP_AT(avp_fifo, elem_size, 12);
AVP_AT(avp_fifo, slot, 16);

AVP_AT(avp_desc, pkt_mbuf, 8);
AVP_AT(avp_desc, ol_flags, 30);
AVP_AT(avp_desc, next, 32);
AVP_AT(avp_desc, data, 40);
AVP_AT(avp_desc, data_len, 48);
AVP_AT(avp_desc, nb_segs, 50);
AVP_AT(avp_desc, pkt_len, 52);
AVP_AT(avp_desc, vlan_tci, 58);
AVP_LAYOUT_ASSERT(sizeof(struct avp_desc) == 64, "descriptor size");

AVP_AT(avp_device_config, device_id, 0);
AVP_AT(avp_device_config, driver_type, 8);
AVP_AT(avp_device_config, driver_version, 12);
AVP_AT(avp_device_config, features, 16);
AVP_AT(avp_device_config, num_tx_queues, 20);
AVP_AT(avp_device_config, num_rx_queues, 22);
AVP_AT(avp_device_config, if_up, 24);
AVP_LAYOUT_ASSERT(sizeof(struct avp_device_config) == 25, "device config size");
AVP_AT(avp_request, req_id, 0);
AVP_AT(avp_request, new_mtu, 4);
AVP_AT(avp_request, result, 32);
AVP_LAYOUT_ASSERT(sizeof(struct avp_request) == 36, "request size");

#ifdef __cplusplus
}
#endif

#endif /* AVP_DEVICE_H */
