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

#include "avp_dev.h"
#include "avp_log.h"

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

/* Mbuf chains longer than this are refused rather than walked unbounded. */
#define AVP_TX_MAX_MBUF_SEGS 64

static inline void
cursor_settle(struct cursor *c)
{
	while (c->i < c->n && c->off >= c->s[c->i].len) {
		c->i++;
		c->off = 0;
	}
}

/* Copies len bytes; callers size both sides, the bounds checks are a backstop. */
static void
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

static void
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
static void
copy_frame(struct cursor *dst, struct cursor *src, uint32_t src_len,
	   const uint8_t *tag, bool strip)
{
	if (tag != NULL) {
		struct span t = { (uint8_t *)(uintptr_t)tag, RTE_VLAN_HLEN };
		struct cursor tc = { &t, 1, 0, 0 };

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

static void
vlan_tag_bytes(uint8_t tag[RTE_VLAN_HLEN], uint16_t tci)
{
	tag[0] = RTE_ETHER_TYPE_VLAN >> 8;
	tag[1] = RTE_ETHER_TYPE_VLAN & 0xff;
	tag[2] = tci >> 8;
	tag[3] = tci & 0xff;
}

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
rx_chain(struct avp_rxq *q, uint64_t va, struct span *segs, uint32_t *pkt_len,
	 uint16_t *ol_flags, uint16_t *tci)
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
			if (next == seen[j]) {   /* a loop would repeat bytes */
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
	struct span segs[AVP_MAX_SEGMENTS], out[RTE_MBUF_MAX_NB_SEGS > 64 ? 64 : RTE_MBUF_MAX_NB_SEGS];
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
		struct span h = { hdr, RTE_MIN(pkt_len, (uint32_t)sizeof(hdr)) };
		struct cursor hc = { &h, 1, 0, 0 };

		src = (struct cursor){ segs, nb, 0, 0 };
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
	src = (struct cursor){ segs, nb, 0, 0 };
	dst = (struct cursor){ out, nm, 0, 0 };
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

/* Fast path: one host segment, one mbuf, no tag work. */
static inline struct rte_mbuf *
rx_simple(struct avp_rxq *q, uint64_t va)
{
	const struct avp_dev *avp = q->avp;
	const struct avp_desc *d = avp_va_to_guest(&avp->xlate, va, sizeof(*d));
	struct rte_mbuf *m;
	uint16_t len;
	uint8_t *p;

	if (d == NULL || !avp_desc_aligned(d) || *(volatile uint8_t *)&d->nb_segs != 1 ||
	    (*(volatile uint16_t *)&d->ol_flags & AVP_RX_VLAN_PKT) || avp->vlan_strip)
		return rx_one(q, va);
	len = *(volatile uint16_t *)&d->data_len;
	if (len != *(volatile uint16_t *)&d->pkt_len || len < RTE_ETHER_HDR_LEN ||
	    len > q->room || len > avp->info.max_rx_pkt_len + RTE_VLAN_HLEN)
		return rx_one(q, va);
	p = avp_va_to_guest(&avp->xlate, *(volatile uint64_t *)&d->data, len);
	if (p == NULL)
		return rx_one(q, va);
	if (!rx_wanted(avp, p)) {
		q->st.filtered++;
		return NULL;
	}
	m = rte_pktmbuf_alloc(q->mp);
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

uint16_t
avp_recv(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct avp_rxq *q = arg;
	uint64_t heads[AVP_BURST];
	uint16_t got = 0;

	__atomic_store_n(&q->busy, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&q->avp->attached, __ATOMIC_SEQ_CST)) {
		q->st.detached++;
		__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
		return 0;
	}
	while (got < n) {
		unsigned int chunk = RTE_MIN((unsigned int)(n - got), (unsigned int)AVP_BURST);
		unsigned int k, i;

		/* Every buffer taken must go back on free: take no more than fits. */
		chunk = RTE_MIN(chunk, avp_ring_room(&q->free));
		if (chunk == 0)
			break;
		k = avp_ring_get(&q->rx, heads, chunk);
		if (k == 0)
			break;
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = rx_simple(q, heads[i]);

			if (m != NULL)
				pkts[got++] = m;
		}
		avp_ring_put(&q->free, heads, k);
		if (k < chunk)
			break;
	}
	__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
	return got;
}

/* ---- transmit ------------------------------------------------------------- */

/* Tops up the stash from the alloc FIFO, keeping only buffers that check out. */
static void
tx_refill(struct avp_txq *q)
{
	const struct avp_dev *avp = q->avp;
	uint64_t va[AVP_TX_STASH];
	unsigned int k, i;

	k = avp_ring_get(&q->alloc, va, AVP_TX_STASH - q->nb_stash);
	for (i = 0; i < k; i++) {
		struct avp_desc *d = avp_va_to_guest(&avp->xlate, va[i], sizeof(*d));
		uint8_t *data = NULL;

		if (d != NULL && avp_desc_aligned(d))
			data = avp_va_to_guest(&avp->xlate, *(volatile uint64_t *)&d->data,
					       avp->info.mbuf_size);
		if (data == NULL) {
			q->st.bad_alloc++;
			AVP_TX_LOG(DEBUG, "alloc buffer 0x%" PRIx64 " rejected", va[i]);
			continue;
		}
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
	need = (out_len + cap - 1) / cap;
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
		sc = (struct cursor){ src, nsrc, 0, 0 };
		dc = (struct cursor){ dst, need, 0, 0 };
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
	rte_pktmbuf_free(m);
	return TX_SENT;
}

uint16_t
avp_xmit(void *arg, struct rte_mbuf **pkts, uint16_t n)
{
	struct avp_txq *q = arg;
	uint64_t heads[AVP_BURST];
	uint16_t done = 0;

	__atomic_store_n(&q->busy, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&q->avp->attached, __ATOMIC_SEQ_CST)) {
		/* Detached: the rings may be gone; drop and count, as a cable pull would. */
		rte_pktmbuf_free_bulk(pkts, n);
		q->st.detached += n;
		__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
		return n;
	}
	while (done < n) {
		unsigned int chunk = RTE_MIN((unsigned int)(n - done), (unsigned int)AVP_BURST);
		unsigned int room = avp_ring_room(&q->tx);
		unsigned int i, nh = 0;

		if (room == 0) {
			q->st.ring_full++;
			break;
		}
		chunk = RTE_MIN(chunk, room);
		for (i = 0; i < chunk; i++) {
			enum tx_verdict v = tx_one(q, pkts[done + i], &heads[nh]);

			if (v == TX_NO_BUFFER) {
				q->st.no_buffer++;
				break;
			}
			if (v == TX_SENT)
				nh++;
		}
		avp_ring_put(&q->tx, heads, nh);
		done += i;
		if (i < chunk)
			break;
	}
	__atomic_store_n(&q->busy, 0, __ATOMIC_RELEASE);
	return done;
}

/* ---- queue binding -------------------------------------------------------- */

int
avp_rxq_bind(struct avp_rxq *q, const char **why)
{
	const struct avp_dev *avp = q->avp;
	int ret;

	ret = avp_ring_bind(&q->rx, &avp->xlate, avp->info.rx_phys, avp->info.rx_size,
			    q->qid, false, why);
	if (ret == 0)
		ret = avp_ring_bind(&q->free, &avp->xlate, avp->info.free_phys,
				    avp->info.free_size, q->qid, true, why);
	return ret;
}

int
avp_txq_bind(struct avp_txq *q, const char **why)
{
	const struct avp_dev *avp = q->avp;
	int ret;

	/* Stashed buffers belong to the previous attachment's addresses. */
	q->nb_stash = 0;
	ret = avp_ring_bind(&q->tx, &avp->xlate, avp->info.tx_phys, avp->info.tx_size,
			    q->qid, true, why);
	if (ret == 0)
		ret = avp_ring_bind(&q->alloc, &avp->xlate, avp->info.alloc_phys,
				    avp->info.alloc_size, q->qid, false, why);
	return ret;
}
