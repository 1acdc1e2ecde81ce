/* SPDX-License-Identifier: BSD-3-Clause */
/* Basic stats and xstats: per-queue counters summed on demand. */
#include <string.h>

#include "avp_dev.h"
#include "avp_stats.h"

struct avp_totals {
	struct avp_rx_stats rx;
	struct avp_tx_stats tx;
	uint64_t rx_ring_index; /* rx and free FIFOs */
	uint64_t tx_ring_index; /* tx and alloc FIFOs */
};

static void
sum(const struct rte_eth_dev *eth, struct avp_totals *t)
{
	const struct rte_eth_dev_data *d = eth->data;
	uint16_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < d->nb_rx_queues; i++) {
		const struct avp_rxq *q = d->rx_queues[i];

		if (q == NULL)
			continue;
		t->rx.packets += q->st.packets;
		t->rx.bytes += q->st.bytes;
		t->rx.bad_address += q->st.bad_address;
		t->rx.bad_length += q->st.bad_length;
		t->rx.bad_chain += q->st.bad_chain;
		t->rx.nombuf += q->st.nombuf;
		t->rx.filtered += q->st.filtered;
		t->rx.detached += q->st.detached;
		t->rx_ring_index += q->rx.index_errors + q->free.index_errors;
	}
	for (i = 0; i < d->nb_tx_queues; i++) {
		const struct avp_txq *q = d->tx_queues[i];

		if (q == NULL)
			continue;
		t->tx.packets += q->st.packets;
		t->tx.bytes += q->st.bytes;
		t->tx.oversize += q->st.oversize;
		t->tx.bad_mbuf += q->st.bad_mbuf;
		t->tx.bad_alloc += q->st.bad_alloc;
		t->tx.no_buffer += q->st.no_buffer;
		t->tx.ring_full += q->st.ring_full;
		t->tx.detached += q->st.detached;
		t->tx_ring_index += q->tx.index_errors + q->alloc.index_errors;
	}
}

static uint64_t
rx_errors(const struct avp_rx_stats *s)
{
	return s->bad_address + s->bad_length + s->bad_chain;
}

static uint64_t
tx_errors(const struct avp_tx_stats *s)
{
	return s->oversize + s->bad_mbuf + s->detached;
}

int
avp_stats_get(struct rte_eth_dev *eth, struct rte_eth_stats *st)
{
	const struct rte_eth_dev_data *d = eth->data;
	struct avp_totals t;
	uint16_t i;

	sum(eth, &t);
	st->ipackets = t.rx.packets;
	st->ibytes = t.rx.bytes;
	st->ierrors = rx_errors(&t.rx);
	st->rx_nombuf = t.rx.nombuf;
	st->opackets = t.tx.packets;
	st->obytes = t.tx.bytes;
	st->oerrors = tx_errors(&t.tx);
	for (i = 0; i < d->nb_rx_queues && i < RTE_ETHDEV_QUEUE_STAT_CNTRS; i++) {
		const struct avp_rxq *q = d->rx_queues[i];

		if (q == NULL)
			continue;
		st->q_ipackets[i] = q->st.packets;
		st->q_ibytes[i] = q->st.bytes;
		st->q_errors[i] = rx_errors(&q->st);
	}
	for (i = 0; i < d->nb_tx_queues && i < RTE_ETHDEV_QUEUE_STAT_CNTRS; i++) {
		const struct avp_txq *q = d->tx_queues[i];

		if (q == NULL)
			continue;
		st->q_opackets[i] = q->st.packets;
		st->q_obytes[i] = q->st.bytes;
	}
	return 0;
}

int
avp_stats_reset(struct rte_eth_dev *eth)
{
	const struct rte_eth_dev_data *d = eth->data;
	struct avp_dev *avp = avp_of(eth);
	uint16_t i;

	/* Racy against a running datapath, like every software PMD's reset. */
	for (i = 0; i < d->nb_rx_queues; i++) {
		struct avp_rxq *q = d->rx_queues[i];

		if (q != NULL) {
			memset(&q->st, 0, sizeof(q->st));
			q->rx.index_errors = q->free.index_errors = 0;
		}
	}
	for (i = 0; i < d->nb_tx_queues; i++) {
		struct avp_txq *q = d->tx_queues[i];

		if (q != NULL) {
			memset(&q->st, 0, sizeof(q->st));
			q->tx.index_errors = q->alloc.index_errors = 0;
		}
	}
	memset(&avp->ctrl.st, 0, sizeof(avp->ctrl.st));
	memset(&avp->mig, 0, sizeof(avp->mig));
	return 0;
}

/*
 * Driver-specific xstats, in a fixed order. ethdev already reports the basic
 * ones (rx_good_packets, rx_mbuf_allocation_errors, per-queue counts...).
 */
static const char *const xstat_names[] = {
	"rx_bad_address_errors", "rx_bad_length_errors", "rx_bad_chain_errors",
	"rx_filtered_packets",	 "rx_detached_polls",	 "tx_oversize_dropped",
	"tx_bad_mbuf_dropped",	 "tx_detached_dropped",	 "tx_bad_alloc_buffers",
	"tx_no_buffer_events",	 "tx_ring_full_events",	 "ctrl_requests",
	"ctrl_timeouts",	 "ctrl_errors",		 "migration_detach",
	"migration_attach",	 "migration_errors",	 "rx_ring_index_errors",
	"tx_ring_index_errors",
};
#define NB_XSTATS RTE_DIM(xstat_names)

static void
xstat_values(struct rte_eth_dev *eth, uint64_t v[NB_XSTATS])
{
	const struct avp_dev *avp = avp_of(eth);
	struct avp_totals t;
	unsigned int i = 0;

	sum(eth, &t);
	v[i++] = t.rx.bad_address;
	v[i++] = t.rx.bad_length;
	v[i++] = t.rx.bad_chain;
	v[i++] = t.rx.filtered;
	v[i++] = t.rx.detached;
	v[i++] = t.tx.oversize;
	v[i++] = t.tx.bad_mbuf;
	v[i++] = t.tx.detached;
	v[i++] = t.tx.bad_alloc;
	v[i++] = t.tx.no_buffer;
	v[i++] = t.tx.ring_full;
	v[i++] = avp->ctrl.st.requests;
	v[i++] = avp->ctrl.st.timeouts;
	v[i++] = avp->ctrl.st.errors;
	v[i++] = avp->mig.detach;
	v[i++] = avp->mig.attach;
	v[i++] = avp->mig.errors;
	v[i++] = t.rx_ring_index;
	v[i++] = t.tx_ring_index;
	RTE_BUILD_BUG_ON(19 != NB_XSTATS);
}

int
avp_xstats_get(struct rte_eth_dev *eth, struct rte_eth_xstat *xs, unsigned int n)
{
	uint64_t v[NB_XSTATS];
	unsigned int i;

	if (xs == NULL || n < NB_XSTATS)
		return NB_XSTATS;
	xstat_values(eth, v);
	for (i = 0; i < NB_XSTATS; i++) {
		xs[i].id = i;
		xs[i].value = v[i];
	}
	return NB_XSTATS;
}

int
avp_xstats_get_names(struct rte_eth_dev *eth, struct rte_eth_xstat_name *names, unsigned int n)
{
	unsigned int i;

	if (names == NULL || n < NB_XSTATS)
		return NB_XSTATS;
	for (i = 0; i < NB_XSTATS; i++)
		strlcpy(names[i].name, xstat_names[i], sizeof(names[i].name));
	return NB_XSTATS;
}

int
avp_xstats_reset(struct rte_eth_dev *eth)
{
	return avp_stats_reset(eth);
}
