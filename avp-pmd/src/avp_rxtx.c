/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive and transmit bursts. The guest copies every packet: out of host
 * buffers into mbufs on receive, into host buffers taken from the alloc FIFO
 * on transmit. Every descriptor, data pointer, length and chain link the host
 * wrote is read once into a local, checked against the shared memory, and
 * only then used; a bad one drops its packet and bumps a counter.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "avp_copy.h"
#include "avp_dev.h"
#include "avp_log.h"

/* Mbuf chains longer than this are refused rather than walked unbounded. */
#define AVP_TX_MAX_MBUF_SEGS 64

/* ---- receive -------------------------------------------------------------- */

/* Unicast not ours, or multicast not subscribed: drop unless promiscuous. */
static bool
rx_wanted(const struct avp_dev *avp, const uint8_t *dst)
{
	const struct rte_eth_dev_data *d = avp->eth->data;
	const struct rte_ether_addr *a = (const struct rte_ether_addr *)dst;
	uint32_t i;

	if (d->promiscuous)
		return true;
	if (rte_is_unicast_ether_addr(a))
		return rte_is_same_ether_addr(a, &d->mac_addrs[0]);
	if (rte_is_broadcast_ether_addr(a) || d->all_multicast)
		return true;
	for (i = 0; i < avp->nb_mc; i++)
		if (rte_is_same_ether_addr(a, &avp->mc[i]))
			return true;
	return false;
}

/* Walks and checks the chain at host address va; fills segs, returns nb_segs or 0. */
static unsigned int
rx_chain(struct avp_rxq *q, uint64_t va, struct span *segs, uint32_t *pkt_len, uint16_t *ol_flags,
	 uint16_t *tci)
{
	const struct avp_dev *avp = q->avp;
	const struct avp_xlate *x = &avp->xlate;
	const volatile struct avp_desc *d = avp_va_to_guest(x, va, sizeof(*d));
	uint64_t seen[AVP_MAX_SEGMENTS];
	uint32_t total = 0, len;
	unsigned int nb, i, j;

	if (d == NULL || !avp_desc_aligned((const void *)d)) {
		q->st.bad_address++;
		AVP_RX_LOG(DEBUG, "descriptor 0x%" PRIx64 " outside the shared memory", va);
		return 0;
	}
	nb = d->nb_segs;
	*pkt_len = d->pkt_len;
	*ol_flags = d->ol_flags;
	*tci = d->vlan_tci;
	if (nb == 0 || nb > AVP_MAX_SEGMENTS) {
		q->st.bad_chain++;
		return 0;
	}
	for (i = 0; i < nb; i++) {
		uint64_t data = d->data, next = d->next;

		len = d->data_len;
		seen[i] = va;
		segs[i].p = avp_va_to_guest(x, data, len);
		segs[i].len = len;
		if (segs[i].p == NULL) {
			q->st.bad_address++;
			return 0;
		}
		total += len;
		if (i + 1 == nb)
			break;
		for (j = 0; j <= i; j++) {
			if (next == seen[j]) { /* a loop would repeat bytes */
				q->st.bad_chain++;
				return 0;
			}
		}
		if (next == 0) {
			q->st.bad_chain++;
			return 0;
		}
		va = next;
		d = avp_va_to_guest(x, va, sizeof(*d));
		if (d == NULL || !avp_desc_aligned((const void *)d)) {
			q->st.bad_address++;
			return 0;
		}
	}
	if (total != *pkt_len || total < RTE_ETHER_HDR_LEN ||
	    total > avp->info.max_rx_pkt_len + RTE_VLAN_HLEN) {
		q->st.bad_length++;
		return 0;
	}
	return nb;
}

static struct rte_mbuf *
rx_one(struct avp_rxq *q, uint64_t va)
{
	const struct avp_dev *avp = q->avp;
	struct span segs[AVP_MAX_SEGMENTS],
		out[RTE_MBUF_MAX_NB_SEGS > 64 ? 64 : RTE_MBUF_MAX_NB_SEGS];
	struct rte_mbuf *ms[RTE_DIM(out)];
	uint8_t hdr[RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN], tag[RTE_VLAN_HLEN];
	uint16_t ol_flags, tci;
	uint32_t pkt_len, out_len, nm, i, left;
	bool reinsert = false, strip = false;
	struct cursor src, dst;
	unsigned int nb;

	nb = rx_chain(q, va, segs, &pkt_len, &ol_flags, &tci);
	if (nb == 0)
		return NULL;

	/* The first bytes, wherever the host split them. */
	{
		struct span h = {hdr, RTE_MIN(pkt_len, (uint32_t)sizeof(hdr))};
		struct cursor hc = {&h, 1, 0, 0};

		src = (struct cursor){segs, nb, 0, 0};
		cursor_copy(&hc, &src, h.len);
	}
	if (!rx_wanted(avp, hdr)) {
		q->st.filtered++;
		return NULL;
	}

	out_len = pkt_len;
	if (ol_flags & AVP_RX_VLAN_PKT) {
		if (!avp->vlan_strip) {
			/* Host stripped a tag the application wants to see. */
			reinsert = true;
			vlan_tag_bytes(tag, tci);
			out_len += RTE_VLAN_HLEN;
		}
	} else if (avp->vlan_strip && pkt_len >= RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN &&
		   hdr[12] == (RTE_ETHER_TYPE_VLAN >> 8) &&
		   hdr[13] == (RTE_ETHER_TYPE_VLAN & 0xff)) {
		strip = true;
		tci = (uint16_t)(hdr[14] << 8 | hdr[15]);
		out_len -= RTE_VLAN_HLEN;
	}

	nm = (out_len + q->room - 1) / q->room;
	if (nm > RTE_DIM(out)) {
		q->st.bad_length++;
		return NULL;
	}
	if (rte_pktmbuf_alloc_bulk(q->mp, ms, nm) != 0) {
		q->st.nombuf++;
		return NULL;
	}
	left = out_len;
	for (i = 0; i < nm; i++) {
		uint32_t l = RTE_MIN(left, q->room);

		out[i].p = rte_pktmbuf_mtod(ms[i], uint8_t *);
		out[i].len = l;
		ms[i]->data_len = l;
		ms[i]->next = i + 1 < nm ? ms[i + 1] : NULL;
		left -= l;
	}
	src = (struct cursor){segs, nb, 0, 0};
	dst = (struct cursor){out, nm, 0, 0};
	copy_frame(&dst, &src, pkt_len, reinsert ? tag : NULL, strip);

	ms[0]->nb_segs = nm;
	ms[0]->pkt_len = out_len;
	ms[0]->port = avp->eth->data->port_id;
	if ((ol_flags & AVP_RX_VLAN_PKT) && avp->vlan_strip) {
		ms[0]->vlan_tci = tci;
		ms[0]->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	} else if (strip) {
		ms[0]->vlan_tci = tci;
		ms[0]->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	}
	q->st.packets++;
	q->st.bytes += out_len;
	AVP_RX_LOG(DEBUG, "q%u: %u bytes in %u host segments", q->qid, pkt_len, nb);
	return ms[0];
}

/* Mbufs taken from the pool once per burst rather than once per packet. */
struct rx_spares {
	struct rte_mbuf *m[AVP_BURST];
	unsigned int n;
	unsigned int used;
};

/* Fast path: one host segment, one mbuf, no tag work. d is va translated (or NULL). */
static inline struct rte_mbuf *
rx_simple(struct avp_rxq *q, uint64_t va, const struct avp_desc *d, struct rx_spares *sp)
{
	const struct avp_dev *avp = q->avp;
	struct rte_mbuf *m;
	uint16_t len;
	uint8_t *p;

	if (d == NULL || !avp_desc_aligned(d) || *(volatile uint8_t *)&d->nb_segs != 1 ||
	    (*(volatile uint16_t *)&d->ol_flags & AVP_RX_VLAN_PKT) || avp->vlan_strip)
		return rx_one(q, va);
	len = *(volatile uint16_t *)&d->data_len;
	if (len != *(volatile uint16_t *)&d->pkt_len || len < RTE_ETHER_HDR_LEN || len > q->room ||
	    len > avp->info.max_rx_pkt_len + RTE_VLAN_HLEN)
		return rx_one(q, va);
	p = avp_va_to_guest(&avp->xlate, *(volatile uint64_t *)&d->data, len);
	if (p == NULL)
		return rx_one(q, va);
	if (!rx_wanted(avp, p)) {
		q->st.filtered++;
		return NULL;
	}
	m = sp->used < sp->n ? sp->m[sp->used++] : rte_pktmbuf_alloc(q->mp);
	if (m == NULL) {
		q->st.nombuf++;
		return NULL;
	}
	rte_memcpy(rte_pktmbuf_mtod(m, void *), p, len);
	m->data_len = len;
	m->pkt_len = len;
	m->port = avp->eth->data->port_id;
	q->st.packets++;
	q->st.bytes += len;
	return m;
}

/*
 * The host's core wrote the burst's descriptors (and, between two ports, the
 * bytes): start all those misses at once instead of one per packet. Only a
 * hint; every value is read again and checked where it is used.
 */
static inline void
rx_prefetch(const struct avp_rxq *q, const uint64_t *heads, const struct avp_desc **descs,
	    unsigned int k)
{
	const struct avp_xlate *x = &q->avp->xlate;
	unsigned int i;

	for (i = 0; i < k; i++) {
		descs[i] = avp_va_to_guest(x, heads[i], sizeof(struct avp_desc));
		if (descs[i] != NULL)
			rte_prefetch0(descs[i]);
	}
}

static inline void
rx_prefetch_data(const struct avp_rxq *q, const struct avp_desc *d)
{
	const void *p;

	if (d == NULL || !avp_desc_aligned(d))
		return;
	p = avp_va_to_guest(&q->avp->xlate, *(volatile uint64_t *)&d->data, RTE_CACHE_LINE_SIZE);
	if (p != NULL)
		rte_prefetch0(p);
}

uint16_t
avp_recv(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct avp_rxq *q = arg;
	uint64_t heads[AVP_BURST];
	const struct avp_desc *descs[AVP_BURST];
	struct rx_spares sp;
	uint16_t got = 0;

	if (!avp_burst_enter(&q->busy, &q->avp->attached)) {
		q->st.detached++;
		avp_burst_leave(&q->busy);
		return 0;
	}
	while (got < n) {
		unsigned int chunk = RTE_MIN((unsigned int)(n - got), (unsigned int)AVP_BURST);
		unsigned int k, i;

		/* Every buffer taken must go back on free: take no more than fits. */
		chunk = RTE_MIN(chunk, avp_ring_room(&q->free, chunk));
		if (chunk == 0)
			break;
		k = avp_ring_get(&q->rx, heads, chunk);
		if (k == 0)
			break;
		rx_prefetch(q, heads, descs, k);
		sp.used = 0;
		sp.n = rte_pktmbuf_alloc_bulk(q->mp, sp.m, k) == 0 ? k : 0;
		rx_prefetch_data(q, descs[0]);
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m;

			if (i + 1 < k)
				rx_prefetch_data(q, descs[i + 1]);
			m = rx_simple(q, heads[i], descs[i], &sp);
			if (m != NULL)
				pkts[got++] = m;
		}
		if (sp.used < sp.n) /* dropped or slow-path packets */
			rte_pktmbuf_free_bulk(&sp.m[sp.used], sp.n - sp.used);
		avp_ring_put(&q->free, heads, k);
		if (k < chunk)
			break;
	}
	avp_burst_leave(&q->busy);
	return got;
}

/* ---- transmit ------------------------------------------------------------- */

/* Tops up the stash from the alloc FIFO, keeping only buffers that check out. */
static void
tx_refill(struct avp_txq *q)
{
	const struct avp_dev *avp = q->avp;
	uint64_t va[AVP_TX_STASH];
	struct avp_desc *descs[AVP_TX_STASH];
	unsigned int k, i;

	k = avp_ring_get(&q->alloc, va, AVP_TX_STASH - q->nb_stash);
	/* The host's core last had these descriptors, and we are about to read
	 * and then write them: fetch them all at once, for writing. */
	for (i = 0; i < k; i++) {
		descs[i] = avp_va_to_guest(&avp->xlate, va[i], sizeof(struct avp_desc));
		if (descs[i] != NULL)
			rte_prefetch0_write(descs[i]);
	}
	for (i = 0; i < k; i++) {
		struct avp_desc *d = descs[i];
		uint8_t *data = NULL;

		if (d != NULL && avp_desc_aligned(d))
			data = avp_va_to_guest(&avp->xlate, *(volatile uint64_t *)&d->data,
					       avp->info.mbuf_size);
		if (data == NULL) {
			q->st.bad_alloc++;
			AVP_TX_LOG(DEBUG, "alloc buffer 0x%" PRIx64 " rejected", va[i]);
			continue;
		}
		rte_prefetch0_write(data);
		q->stash[q->nb_stash].va = va[i];
		q->stash[q->nb_stash].desc = d;
		q->stash[q->nb_stash].data = data;
		q->nb_stash++;
	}
}

enum tx_verdict { TX_SENT, TX_DROPPED, TX_NO_BUFFER };

static enum tx_verdict
tx_one(struct avp_txq *q, struct rte_mbuf *m, uint64_t *head)
{
	const struct avp_dev *avp = q->avp;
	const uint32_t cap = avp->info.mbuf_size;
	struct span src[AVP_TX_MAX_MBUF_SEGS], dst[AVP_MAX_SEGMENTS];
	uint8_t tag[RTE_VLAN_HLEN];
	bool hw_vlan = false, sw_vlan = false;
	struct avp_tx_buf *b;
	struct cursor sc, dc;
	uint32_t out_len = m->pkt_len, need, left, i, nsrc;
	struct rte_mbuf *s;

	if (m->ol_flags & RTE_MBUF_F_TX_VLAN) {
		if (avp->features & AVP_FEATURE_VLAN_OFFLOAD) {
			hw_vlan = true;
		} else {
			sw_vlan = true;
			vlan_tag_bytes(tag, m->vlan_tci);
			out_len += RTE_VLAN_HLEN;
		}
	}
	if (m->nb_segs > AVP_TX_MAX_MBUF_SEGS || m->pkt_len < 2 * RTE_ETHER_ADDR_LEN) {
		q->st.bad_mbuf++;
		rte_pktmbuf_free(m);
		return TX_DROPPED;
	}
	need = out_len <= cap ? 1 : (out_len + cap - 1) / cap;
	if (out_len > avp->info.max_rx_pkt_len || need > AVP_MAX_SEGMENTS) {
		/* Never truncate: a frame the host cannot take is dropped and counted. */
		q->st.oversize++;
		AVP_TX_LOG(DEBUG, "q%u: %u-byte frame too big", q->qid, out_len);
		rte_pktmbuf_free(m);
		return TX_DROPPED;
	}
	if (q->nb_stash < need) {
		tx_refill(q);
		if (q->nb_stash < need)
			return TX_NO_BUFFER;
	}
	b = &q->stash[q->nb_stash - need];

	if (need == 1 && m->nb_segs == 1 && m->data_len == m->pkt_len && !sw_vlan) {
		rte_memcpy(b[0].data, rte_pktmbuf_mtod(m, void *), out_len);
	} else {
		for (i = 0, s = m; s != NULL && i < m->nb_segs; s = s->next, i++) {
			src[i].p = rte_pktmbuf_mtod(s, uint8_t *);
			src[i].len = s->data_len;
		}
		nsrc = i;
		left = out_len;
		for (i = 0; i < need; i++) {
			dst[i].p = b[i].data;
			dst[i].len = RTE_MIN(left, cap);
			left -= dst[i].len;
		}
		sc = (struct cursor){src, nsrc, 0, 0};
		dc = (struct cursor){dst, need, 0, 0};
		copy_frame(&dc, &sc, m->pkt_len, sw_vlan ? tag : NULL, false);
	}

	/* Every field we rely on is written: fresh host buffers are not trusted to be clean. */
	left = out_len;
	for (i = 0; i < need; i++) {
		struct avp_desc *d = b[i].desc;
		uint16_t l = RTE_MIN(left, cap);

		d->data_len = l;
		d->next = i + 1 < need ? b[i + 1].va : 0;
		d->nb_segs = i == 0 ? need : 1;
		d->pkt_len = i == 0 ? out_len : l;
		d->ol_flags = 0;
		d->vlan_tci = 0;
		left -= l;
	}
	if (hw_vlan) {
		b[0].desc->ol_flags = AVP_TX_VLAN_PKT;
		b[0].desc->vlan_tci = m->vlan_tci;
	}
	*head = b[0].va;
	q->nb_stash -= need;
	q->st.packets++;
	q->st.bytes += out_len;
	return TX_SENT; /* the caller frees the burst's sent mbufs at once */
}

uint16_t
avp_xmit(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct avp_txq *q = arg;
	uint64_t heads[AVP_BURST];
	struct rte_mbuf *sent[AVP_BURST];
	uint16_t done = 0;

	if (!avp_burst_enter(&q->busy, &q->avp->attached)) {
		/* Detached: the rings may be gone; drop and count, as a cable pull would. */
		rte_pktmbuf_free_bulk(pkts, n);
		q->st.detached += n;
		avp_burst_leave(&q->busy);
		return n;
	}
	while (done < n) {
		unsigned int chunk = RTE_MIN((unsigned int)(n - done), (unsigned int)AVP_BURST);
		unsigned int room = avp_ring_room(&q->tx, chunk);
		unsigned int i, nh = 0;

		if (room == 0) {
			q->st.ring_full++;
			break;
		}
		chunk = RTE_MIN(chunk, room);
		/* One alloc FIFO visit per burst rather than whenever the stash runs dry. */
		if (q->nb_stash < chunk)
			tx_refill(q);
		for (i = 0; i < chunk; i++) {
			enum tx_verdict v = tx_one(q, pkts[done + i], &heads[nh]);

			if (v == TX_NO_BUFFER) {
				q->st.no_buffer++;
				break;
			}
			if (v == TX_SENT)
				sent[nh++] = pkts[done + i];
		}
		avp_ring_put(&q->tx, heads, nh);
		rte_pktmbuf_free_bulk(sent, nh);
		done += i;
		if (i < chunk)
			break;
	}
	avp_burst_leave(&q->busy);
	return done;
}

/* ---- queue binding -------------------------------------------------------- */

int
avp_rxq_bind(struct avp_rxq *q, const char **why)
{
	const struct avp_dev *avp = q->avp;
	int ret;

	ret = avp_ring_bind(&q->rx, &avp->xlate, avp->info.rx_phys, avp->info.rx_size, q->qid,
			    false, why);
	if (ret == 0)
		ret = avp_ring_bind(&q->free, &avp->xlate, avp->info.free_phys, avp->info.free_size,
				    q->qid, true, why);
	return ret;
}

int
avp_txq_bind(struct avp_txq *q, const char **why)
{
	const struct avp_dev *avp = q->avp;
	int ret;

	/* Stashed buffers belong to the previous attachment's addresses. */
	q->nb_stash = 0;
	ret = avp_ring_bind(&q->tx, &avp->xlate, avp->info.tx_phys, avp->info.tx_size, q->qid, true,
			    why);
	if (ret == 0)
		ret = avp_ring_bind(&q->alloc, &avp->xlate, avp->info.alloc_phys,
				    avp->info.alloc_size, q->qid, false, why);
	return ret;
}
