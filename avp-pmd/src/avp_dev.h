/* SPDX-License-Identifier: BSD-3-Clause */
/* The driver's per-port state, shared by the ethdev ops, datapath and front ends. */
#ifndef GSDK_AVP_DEV_H
#define GSDK_AVP_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ethdev_driver.h>
#include <rte_ether.h>

#include "avp_ctrl.h"
#include "avp_model.h"

#define AVP_DRIVER_NAME	    net_gsdk_avp
#define AVP_PCI_DRIVER_NAME net_gsdk_avp_pci

enum avp_profile {
	AVP_PROFILE_LEGACY,  /* PCI, BAR0/2/4/5 */
	AVP_PROFILE_IVSHMEM, /* PCI ivshmem, our region in BAR2 */
	AVP_PROFILE_FILE,    /* vdev, our region in a mapped file */
};

/* Largest burst handled at once; larger requests are processed in chunks. */
#define AVP_BURST 32
/* Free host buffers kept per tx queue: one burst of maximal chains. */
#define AVP_TX_STASH	 (AVP_BURST * AVP_MAX_SEGMENTS)
#define AVP_MAX_MC_ADDRS 64

/* Receive-side counters; only the queue's lcore writes them. */
struct avp_rx_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t bad_address; /* descriptor or data outside the shared memory */
	uint64_t bad_length;  /* lengths that disagree or exceed the limits */
	uint64_t bad_chain;   /* nb_segs out of range or a broken next link */
	uint64_t nombuf;      /* no mbuf to copy into */
	uint64_t filtered;    /* not for us (promiscuous/multicast filter) */
	uint64_t detached;    /* bursts answered with nothing while detached */
};

struct avp_tx_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t oversize;  /* larger than the host accepts: dropped */
	uint64_t bad_mbuf;  /* too many segments or too short for a VLAN tag */
	uint64_t bad_alloc; /* host gave a buffer outside the shared memory */
	uint64_t no_buffer; /* bursts cut short for lack of host buffers */
	uint64_t ring_full; /* bursts cut short by a full tx FIFO */
	uint64_t detached;  /* packets dropped while detached */
};

struct avp_rxq {
	struct avp_dev *avp;
	uint16_t qid;
	struct rte_mempool *mp;
	uint32_t room;	      /* bytes one mbuf of mp holds after headroom */
	struct avp_ring rx;   /* host -> guest packets */
	struct avp_ring free; /* guest -> host consumed buffers */
	uint32_t busy;	      /* inside a burst; see avp_quiesce() */
	struct avp_rx_stats st;
};

struct avp_tx_buf {
	uint64_t va; /* host address of the descriptor */
	struct avp_desc *desc;
	uint8_t *data; /* mbuf_size bytes, checked */
};

struct avp_txq {
	struct avp_dev *avp;
	uint16_t qid;
	struct avp_ring tx;    /* guest -> host packets */
	struct avp_ring alloc; /* host -> guest empty buffers */
	uint32_t busy;
	uint16_t nb_stash;
	struct avp_tx_buf stash[AVP_TX_STASH];
	struct avp_tx_stats st;
};

struct avp_migration_stats {
	uint64_t detach;
	uint64_t attach;
	uint64_t errors;
};

struct avp_dev {
	struct rte_eth_dev *eth;
	enum avp_profile profile;
	const char *name;
	struct avp_blocks blocks;
	/* Re-finds the blocks after a migration (the host may move them). */
	int (*reload_blocks)(struct avp_dev *avp, const char **why);
	/* Unmaps what the front end mapped; called once from dev_close. */
	void (*release_front)(struct avp_dev *avp);
	void *front; /* front end's own state */

	struct avp_device_info info; /* validated copy */
	struct avp_xlate xlate;
	struct avp_ctrl ctrl;

	uint32_t features; /* negotiated AVP_FEATURE_* */
	bool vlan_strip;   /* app asked for it */
	bool vlan_insert;
	uint16_t mtu;

	/* 1 while rings may be touched; datapath checks it under q->busy. */
	uint32_t attached;
	uint32_t acked; /* last migration state we acknowledged */
	uint32_t seen;	/* last migration status we acted on */
	bool started;
	bool if_up;

	pthread_mutex_t lock; /* control path and migration handling */
	bool poll_armed;
	struct avp_migration_stats mig;

	struct rte_ether_addr mc[AVP_MAX_MC_ADDRS];
	uint32_t nb_mc;
};

/* avp_ethdev.c: the common core the two front ends call. */
int avp_dev_init(struct rte_eth_dev *eth, enum avp_profile profile,
		 const struct avp_blocks *blocks);

/* Publishes the link state; notify raises LSC events (migration only). */
void avp_set_link(struct avp_dev *avp, bool up, bool notify);

/* avp_migration.c */
/*
 * A burst announces itself in q->busy before it reads avp->attached, and the
 * migration handler clears attached before it waits for busy to drop. That
 * store-then-load needs a full fence on one side. It is paid by the rare side
 * (membarrier() in avp_quiesce) rather than by every burst: a fence per burst
 * waits for the previous burst's stores to lines the host core holds.
 * avp_burst_fence is true only where membarrier is unavailable.
 */
extern bool avp_burst_fence;
void avp_burst_fence_init(void);

static inline bool
avp_burst_enter(uint32_t *busy, const uint32_t *attached)
{
	if (unlikely(avp_burst_fence)) {
		__atomic_store_n(busy, 1, __ATOMIC_SEQ_CST);
	} else {
		__atomic_store_n(busy, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
	return __atomic_load_n(attached, __ATOMIC_ACQUIRE) != 0;
}

static inline void
avp_burst_leave(uint32_t *busy)
{
	__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
}

int avp_migration_check_at_probe(struct avp_dev *avp);
void avp_migration_poll_start(struct avp_dev *avp);
void avp_migration_poll_stop(struct avp_dev *avp);
int avp_attach(struct avp_dev *avp, const char **why);
void avp_quiesce(struct avp_dev *avp);

/* avp_rxtx.c */
uint16_t avp_recv(void *rxq, struct rte_mbuf **pkts, uint16_t n);
uint16_t avp_xmit(void *txq, struct rte_mbuf **pkts, uint16_t n);
int avp_rxq_bind(struct avp_rxq *q, const char **why);
int avp_txq_bind(struct avp_txq *q, const char **why);

static inline struct avp_dev *
avp_of(struct rte_eth_dev *eth)
{
	return eth->data->dev_private;
}

#endif /* GSDK_AVP_DEV_H */
