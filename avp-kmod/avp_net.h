/* SPDX-License-Identifier: GPL-2.0 */
/*
 * avp_net: what the driver's files share. avp_main.c binds the device and
 * answers control, ethtool and NAPI; avp_rx.c receives, avp_tx.c transmits
 * and avp_tso.c segments TSO skbs into frames.
 */
#ifndef AVP_NET_H
#define AVP_NET_H

#include <linux/hrtimer.h>
#include <linux/netdevice.h>
#include <linux/u64_stats_sync.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "avp_shm.h"

#define AVP_NET_NAME	"avp_net"
#define AVP_NET_VERSION "1.0.0"

/* Ethernet header, one VLAN tag and the FCS the host's limits count. */
#define AVP_FRAME_OVERHEAD (ETH_HLEN + VLAN_HLEN + ETH_FCS_LEN)
/* Frames taken from an rx FIFO per batch (one free FIFO update each). */
#define AVP_RX_BATCH 32
/* A detached host may never answer: do not hold the port for long. */
#define AVP_DETACH_SHUTDOWN_TIMEOUT_MS 100
/* Frames one TSO skb may become: a 64 KiB skb at MSS 1448 is 46. */
#define AVP_TSO_MAX_FRAMES 48
/* Headers (Ethernet, VLAN, IP with options or extensions, TCP) we rewrite
 * per frame; an skb with longer ones is segmented by the stack.
 */
#define AVP_TSO_MAX_HDR 256

/* ---- statistics ------------------------------------------------------ */

/* Per receive queue; written by its NAPI poll only. */
struct avp_rq_stats {
	struct u64_stats_sync syncp;
	u64_stats_t packets;		/* frames passed up the stack */
	u64_stats_t bytes;		/* their bytes */
	u64_stats_t bad_address_errors; /* descriptor, data or next outside the shared memory */
	u64_stats_t bad_length_errors;	/* lengths that do not add up or exceed the limits */
	u64_stats_t bad_chain_errors;	/* nb_segs out of 1..5, missing or looping next */
	u64_stats_t bad_index_errors;	/* episodes of a host rx/free FIFO index out of range */
	u64_stats_t alloc_errors;	/* frames dropped for want of an skb */
	u64_stats_t pool_frames;	/* frames received into the queue's page-pool pages */
	u64_stats_t polls;		/* NAPI polls: wake-ups of this queue's receive side */
	u64_stats_t host_wakeups;	/* doorbells rung for a sleeping host (buffers returned) */
};

/* Per transmit queue; written under the queue's xmit lock. */
struct avp_sq_stats {
	struct u64_stats_sync syncp;
	u64_stats_t packets;	       /* frames handed to the host */
	u64_stats_t bytes;	       /* their bytes */
	u64_stats_t oversize_dropped;  /* frames longer than the host accepts */
	u64_stats_t bad_skb_dropped;   /* runts, failed checksum or VLAN insertion */
	u64_stats_t detached_dropped;  /* frames dropped while the host had detached us */
	u64_stats_t bad_alloc_buffers; /* alloc FIFO entries that failed the checks (discarded) */
	u64_stats_t bad_index_errors;  /* episodes of a host tx/alloc FIFO index out of range */
	u64_stats_t no_buffer_events;  /* queue stopped: too few host buffers */
	u64_stats_t ring_full_events;  /* queue stopped: tx FIFO full */
	u64_stats_t wake_events;       /* queue woken again */
	u64_stats_t tso_skbs;	       /* TSO skbs segmented here */
	u64_stats_t tso_segments;      /* frames they became */
	u64_stats_t reserve_lowered;   /* TSO reserve cut to what the host lends now */
	u64_stats_t tso_late_dropped;  /* TSO skbs over a reserve lowered since they were checked */
	u64_stats_t host_wakeups;      /* doorbells rung for a sleeping host (frames sent) */
};

/* ---- device structures ------------------------------------------------ */

enum avp_profile {
	AVP_PROFILE_LEGACY,  /* legacy PCI layout, subsystem 1af4:1104 */
	AVP_PROFILE_IVSHMEM, /* our region in BAR2 of ivshmem-plain/doorbell */
};

/* The control channel: requests through the sync area, one at a time. */
struct avp_ctrl {
	struct mutex lock;	  /* serialises requests and guards the rest */
	struct avp_ring req;	  /* guest -> host: sync_va of a request */
	struct avp_ring resp;	  /* host -> guest: sync_va echoed when done */
	struct avp_request *sync; /* the sync area (shared memory); NULL while unbound */
	u64 sync_va;		  /* the host's address of the sync area */
	wait_queue_head_t wait;	  /* woken by the control vector */
	u64 requests;		  /* requests sent */
	u64 timeouts;		  /* requests the host did not answer in time */
	u64 errors;		  /* refused, malformed or unsendable requests */
	u64 rings;		  /* requests the host was rung for */
};

struct avp_net;
struct page_pool;

/* One queue pair: rx/free FIFOs for receive, tx/alloc FIFOs for transmit. */
struct avp_queue {
	struct napi_struct napi;       /* receive, and waking the transmit queue */
	struct hrtimer poll_timer;     /* schedules napi when there is no vector */
	struct avp_net *avp;	       /* owner */
	unsigned int index;	       /* queue number, FIFO index of each kind */
	struct avp_ring rx;	       /* host -> guest frames (we consume) */
	struct avp_ring free;	       /* rx buffers we return (we produce) */
	struct avp_ring tx;	       /* guest -> host frames (we produce) */
	struct avp_ring alloc;	       /* empty host buffers for tx (we consume) */
	u64 poll_ns;		       /* current timer period, grows while idle */
	struct avp_irq_line *irq_line; /* our armed word in the irq area; NULL: timer */
	struct page_pool *rx_pool;     /* receive skbs' pages while up; NULL: napi_alloc_skb */
	int irq;		       /* Linux irq of MSI-X vector 1 + index, or 0 */
	u64 irq_count;		       /* interrupts taken (written by the handler only) */
	u32 alloc_peak; /* most alloc entries seen at once, lowered when the host lends fewer */
	unsigned long tx_stopped_at;  /* jiffies when the transmit queue last stopped */
	char irq_name[32];	      /* "<pci name>-q<index>" */
	struct avp_rq_stats rx_stats; /* receive counters */
	struct avp_sq_stats tx_stats; /* transmit counters */
};

/* One AVP device. Fields below `attached` change under the RTNL lock. */
struct avp_net {
	struct net_device *netdev;	    /* our interface */
	struct pci_dev *pdev;		    /* our PCI function */
	enum avp_profile profile;	    /* how the blocks were found */
	void *bar2;			    /* memremap of BAR2 (data, or the whole region) */
	void *bar4;			    /* legacy: memremap of the memory map BAR */
	void *bar5;			    /* legacy: memremap of the device info BAR */
	u32 __iomem *bar0;		    /* legacy: the register BAR */
	void __iomem *ivshmem_regs;	    /* ivshmem's BAR0 when we ring the host, else NULL */
	struct avp_irq_area *wake_area;	    /* irq area holding host_asleep, guest_rings */
	u32 wake_doorbell;		    /* what ringing writes into its Doorbell register */
	u32 ctrl_doorbell;		    /* what it takes for a control request; 0: none */
	struct avp_blocks blocks;	    /* where registers, map, info and data are */
	struct avp_device_info info;	    /* checked copy of the host's device info */
	struct avp_xlate xlate;		    /* host addresses -> kernel pointers */
	struct avp_ctrl ctrl;		    /* control requests */
	struct avp_queue *queues;	    /* max_queues entries */
	unsigned int max_queues;	    /* queue pairs the netdev was sized for */
	unsigned int nr_queues;		    /* queue pairs in use */
	u32 max_frame;			    /* longest frame the host takes (bytes, no FCS) */
	u32 tx_max_segs;		    /* buffers the longest frame at this MTU needs */
	u32 tso_max_bufs;		    /* buffers the largest TSO skb at this MTU may need */
	bool vlan_offload;		    /* the host offers AVP_FEATURE_VLAN_OFFLOAD */
	bool attached;			    /* rings valid: not detached by a migration */
	bool datapath_up;		    /* NAPI enabled, queues running */
	bool removing;			    /* remove() started: do not re-arm the watcher */
	int nvec;			    /* MSI-X vectors allocated (0: none) */
	int ctrl_irq;			    /* Linux irq of vector 0, or 0 */
	char ctrl_irq_name[32];		    /* "<pci name>-ctrl" */
	u32 mig_seen;			    /* migration status last acted on */
	struct delayed_work migration_work; /* watches the migration status */
	u64 mig_detach;			    /* detach events handled */
	u64 mig_attach;			    /* successful re-attaches */
	u64 mig_errors;			    /* failed re-attaches, host-reported errors */
	u64 mig_checks;			    /* runs of the migration watcher (RTNL) */
	u64 ctrl_irq_count;		    /* vector 0 interrupts (written by the handler only) */
};

/* A transmit buffer the host lent us, checked once. */
struct avp_tx_buf {
	u64 va;		       /* host address of the descriptor */
	u64 data_va;	       /* host address of its data room */
	struct avp_desc *desc; /* kernel pointer to the descriptor */
	u8 *data;	       /* kernel pointer to the data room (mbuf_size bytes) */
};

/* How a TSO skb is cut: checked by avp_tso_plan() before it is accepted. */
struct avp_tso_plan {
	u32 hdr_len; /* Ethernet to TCP options, repeated in every frame */
	u32 mss;     /* payload bytes per frame but the last */
	u32 frames;  /* frames it becomes */
	u32 bufs;    /* host buffers they need together */
	bool ipv4;   /* IPv4 (id, length, header checksum) rather than IPv6 */
};

/* ---- shared helpers ---------------------------------------------------- */

/* Buffers one frame of len bytes needs. */
static inline u32
avp_segs_for(const struct avp_net *avp, u32 len)
{
	return DIV_ROUND_UP(len, avp->info.mbuf_size);
}

/* An aligned 64-bit descriptor field read once (the struct is packed). */
static inline u64
avp_desc_read_u64(const struct avp_desc *d, size_t off)
{
	return READ_ONCE(*(const u64 *)((const u8 *)d + off));
}

static inline void
avp_sq_inc(struct avp_queue *q, u64_stats_t *counter)
{
	u64_stats_update_begin(&q->tx_stats.syncp);
	u64_stats_inc(counter);
	u64_stats_update_end(&q->tx_stats.syncp);
}

/* From xmit: a stopped queue needs a poll to wake it. */
static inline void
avp_poll_soon(struct avp_queue *q)
{
	napi_schedule(&q->napi);
}

/* Writes value (the host's peer id << 16 | vector) into ivshmem's Doorbell register. */
static inline void
avp_doorbell_write(struct avp_net *avp, u32 value)
{
	iowrite32(value, (u8 __iomem *)avp->ivshmem_regs + AVP_IVSHMEM_DOORBELL_REG);
}

/*
 * After publishing tx or free FIFO entries: a host that went to sleep
 * waiting for them (it stored host_asleep = 1, then re-read our FIFOs) is
 * rung once through ivshmem's doorbell. The full barrier orders our index
 * store before the host_asleep read, against the host's store-then-read.
 * True when it rang.
 */
static inline bool
avp_ring_host(struct avp_net *avp)
{
	u32 *asleep;

	if (!avp->ivshmem_regs)
		return false;
	asleep = &avp->wake_area->host_asleep;
	/* our index store before the host_asleep read (host: the reverse) */
	smp_mb();
	if (!READ_ONCE(*asleep) || !xchg(asleep, 0))
		return false;
	avp_doorbell_write(avp, avp->wake_doorbell);
	return true;
}

/* avp_rx.c */
int avp_receive(struct avp_queue *q, int budget);
void avp_rx_pool_create(struct avp_queue *q);
void avp_rx_pool_destroy(struct avp_queue *q);

/* avp_tx.c */
void avp_update_frame_limits(struct avp_net *avp);
netdev_tx_t avp_start_xmit(struct sk_buff *skb, struct net_device *dev);
netdev_features_t avp_features_check(struct sk_buff *skb, struct net_device *dev,
				     netdev_features_t features);
bool avp_tx_wake(struct avp_queue *q);
u32 avp_tx_reserve_bufs(const struct avp_net *avp, const struct avp_queue *q);
u32 avp_tx_reserve_slots(const struct avp_net *avp, const struct avp_queue *q);
int avp_tx_take(struct avp_net *avp, struct avp_queue *q, struct avp_tx_buf *b, u32 need);
void avp_tx_desc_fill(const struct avp_tx_buf *b, u32 s, u32 need, u32 n, u32 len,
		      const struct sk_buff *skb);

/* avp_tso.c */
int avp_tso_plan(const struct avp_net *avp, const struct sk_buff *skb, u32 extra,
		 struct avp_tso_plan *p);
int avp_tso_xmit(struct avp_net *avp, struct avp_queue *q, struct sk_buff *skb);

#endif /* AVP_NET_H */
