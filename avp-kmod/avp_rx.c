// SPDX-License-Identifier: GPL-2.0
/*
 * avp_net receive: frames off a queue's rx FIFO, each chain checked before
 * it is followed, copied into an skb and handed to GRO; every buffer goes
 * back to the host on the free FIFO.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <net/checksum.h>
#ifdef AVP_HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

#include "avp_net.h"

/*
 * Receive skbs of frames up to a standard MTU are built in halves of pages
 * the queue's page pool recycles: a page the stack has finished with comes
 * back as it is, where napi_alloc_skb's refills are fresh pages that the
 * kernel zeroes first (init_on_alloc, on in Debian's kernels), a second
 * pass over every received byte. Longer frames take napi_alloc_skb, and so
 * do short ones (up to AVP_RX_COPYBREAK): a 2 KiB half page for a 64-byte
 * frame would fill a socket's receive buffer at a sixth of the frames.
 */
#define AVP_RX_COPYBREAK 256
#define AVP_RX_FRAG_SIZE 2048
#define AVP_RX_HEADROOM	 (NET_SKB_PAD + NET_IP_ALIGN)
#define AVP_RX_FRAG_ROOM                                                                           \
	(AVP_RX_FRAG_SIZE - AVP_RX_HEADROOM - SKB_DATA_ALIGN(sizeof(struct skb_shared_info)))
/* Pages a queue's pool keeps for reuse in its ring (2 MiB), idle or not. */
#define AVP_RX_POOL_PAGES 512

void
avp_rx_pool_create(struct avp_queue *q)
{
	struct page_pool_params pp = {
		.order = 0,
		.pool_size = AVP_RX_POOL_PAGES,
		.nid = dev_to_node(q->avp->netdev->dev.parent),
		.dev = q->avp->netdev->dev.parent,
	};
	struct page_pool *pool;

#ifdef PP_FLAG_PAGE_FRAG
	pp.flags = PP_FLAG_PAGE_FRAG;
#endif
	pool = page_pool_create(&pp);
	/* Without one the queue allocates as for long frames: slower, not broken. */
	if (IS_ERR(pool)) {
		netdev_warn(q->avp->netdev, "queue %u: no page pool (%ld), receiving without\n",
			    q->index, PTR_ERR(pool));
		pool = NULL;
	}
	q->rx_pool = pool;
}

/* After NAPI is off: pages still in skbs return to the kernel when freed. */
void
avp_rx_pool_destroy(struct avp_queue *q)
{
	if (q->rx_pool)
		page_pool_destroy(q->rx_pool);
	q->rx_pool = NULL;
}

static struct sk_buff *
avp_rx_skb(struct avp_queue *q, u32 len, struct avp_rq_stats *counts)
{
	struct sk_buff *skb;
	struct page *page;
	unsigned int off;

	if (!q->rx_pool || len <= AVP_RX_COPYBREAK || len > AVP_RX_FRAG_ROOM)
		return napi_alloc_skb(&q->napi, len);
	page = page_pool_dev_alloc_frag(q->rx_pool, &off, AVP_RX_FRAG_SIZE);
	if (!page)
		return NULL;
	skb = napi_build_skb(page_address(page) + off, AVP_RX_FRAG_SIZE);
	if (!skb) {
		page_pool_put_full_page(q->rx_pool, page, true);
		return NULL;
	}
	skb_mark_for_recycle(skb);
	skb_reserve(skb, AVP_RX_HEADROOM);
	u64_stats_inc(&counts->pool_frames);
	return skb;
}

/*
 * Copies the segments into skb and sums what follows the Ethernet header on
 * the way: the stack gets CHECKSUM_COMPLETE and verifies TCP/UDP against
 * that sum instead of reading every byte a second time. The sum is of the
 * bytes as copied (each word is loaded once for both), so a host that
 * rewrites a buffer meanwhile cannot make it disagree with the skb.
 */
static void
avp_rx_copy_csum(struct sk_buff *skb, const u8 *const *seg, const struct avp_desc *snap, u32 nb)
{
	__wsum sum = 0;
	u32 pos = 0, s;

	for (s = 0; s < nb; s++) {
		u32 len = snap[s].data_len;
		u8 *to = skb_put(skb, len);
		u32 head = pos < ETH_HLEN ? min(len, ETH_HLEN - pos) : 0;
		__wsum part;

		memcpy(to, seg[s], head);
		if (len > head) {
			part = csum_partial_copy_nocheck(seg[s] + head, to + head, len - head);
			sum = csum_block_add(sum, part, pos + head - ETH_HLEN);
		}
		pos += len;
	}
	skb->csum = sum;
	skb->ip_summed = CHECKSUM_COMPLETE;
}

/*
 * Checks the chain headed at va and copies the frame into an skb. Returns
 * the skb, or NULL with the reason counted. *is_buffer says whether va is a
 * host buffer at all (one that is not must not be returned on free).
 */
static struct sk_buff *
avp_rx_frame(struct avp_queue *q, u64 va, bool *is_buffer, struct avp_rq_stats *bad)
{
	const struct avp_xlate *x = &q->avp->xlate;
	struct avp_desc snap[AVP_MAX_SEGMENTS];
	const u8 *seg[AVP_MAX_SEGMENTS];
	u64 links[AVP_MAX_SEGMENTS];
	struct avp_desc *d = avp_desc_at(x, va);
	struct sk_buff *skb;
	u32 nb, pkt_len, sum = 0, s, k;

	*is_buffer = !!d;
	if (!d) {
		u64_stats_inc(&bad->bad_address_errors);
		return NULL;
	}
	/* Each descriptor is copied once and only the copy is checked and used:
	 * the host may rewrite the shared one meanwhile.
	 */
	memcpy(&snap[0], d, sizeof(*d));
	barrier();
	nb = snap[0].nb_segs;
	pkt_len = snap[0].pkt_len;
	if (nb < 1 || nb > AVP_MAX_SEGMENTS) {
		u64_stats_inc(&bad->bad_chain_errors);
		return NULL;
	}
	if (pkt_len < ETH_HLEN || pkt_len > q->avp->max_frame) {
		u64_stats_inc(&bad->bad_length_errors);
		return NULL;
	}
	links[0] = va;
	for (s = 0; s < nb; s++) {
		u32 len = snap[s].data_len;

		if (len > q->avp->info.mbuf_size || len > pkt_len - sum) {
			u64_stats_inc(&bad->bad_length_errors);
			return NULL;
		}
		seg[s] = avp_va_to_kernel(x, snap[s].data, len);
		if (!seg[s]) {
			u64_stats_inc(&bad->bad_address_errors);
			return NULL;
		}
		sum += len;
		if (s + 1 == nb)
			break;
		/* A missing link, or one back into the chain (a loop). */
		links[s + 1] = snap[s].next;
		for (k = 0; k <= s; k++) {
			if (!links[s + 1] || links[k] == links[s + 1]) {
				u64_stats_inc(&bad->bad_chain_errors);
				return NULL;
			}
		}
		d = avp_desc_at(x, links[s + 1]);
		if (!d) {
			u64_stats_inc(&bad->bad_address_errors);
			return NULL;
		}
		memcpy(&snap[s + 1], d, sizeof(*d));
		barrier();
	}
	if (sum != pkt_len) {
		u64_stats_inc(&bad->bad_length_errors);
		return NULL;
	}

	skb = avp_rx_skb(q, pkt_len, bad);
	if (!skb) {
		u64_stats_inc(&bad->alloc_errors);
		return NULL;
	}
	if (q->avp->netdev->features & NETIF_F_RXCSUM) {
		avp_rx_copy_csum(skb, seg, snap, nb);
	} else {
		for (s = 0; s < nb; s++)
			skb_put_data(skb, seg[s], snap[s].data_len);
	}
	if (snap[0].ol_flags & AVP_RX_VLAN_PKT)
		__vlan_hwaccel_put_tag(skb, htons(ETH_P_8021Q), snap[0].vlan_tci);
	return skb;
}

/* Folds one poll's counts into the queue's, under one sequence count. */
static void
avp_rq_stats_add(struct avp_rq_stats *st, const struct avp_rq_stats *d)
{
	u64_stats_update_begin(&st->syncp);
	u64_stats_add(&st->packets, u64_stats_read(&d->packets));
	u64_stats_add(&st->bytes, u64_stats_read(&d->bytes));
	u64_stats_add(&st->bad_address_errors, u64_stats_read(&d->bad_address_errors));
	u64_stats_add(&st->bad_length_errors, u64_stats_read(&d->bad_length_errors));
	u64_stats_add(&st->bad_chain_errors, u64_stats_read(&d->bad_chain_errors));
	u64_stats_add(&st->bad_index_errors, u64_stats_read(&d->bad_index_errors));
	u64_stats_add(&st->alloc_errors, u64_stats_read(&d->alloc_errors));
	u64_stats_add(&st->pool_frames, u64_stats_read(&d->pool_frames));
	u64_stats_add(&st->polls, u64_stats_read(&d->polls));
	u64_stats_add(&st->host_wakeups, u64_stats_read(&d->host_wakeups));
	u64_stats_update_end(&st->syncp);
}

/* Takes up to budget frames off the rx FIFO; every buffer goes back on free. */
int
avp_receive(struct avp_queue *q, int budget)
{
	struct net_device *dev = q->avp->netdev;
	struct avp_rq_stats delta = {};
	int done = 0;

	while (done < budget) {
		u32 n = min_t(u32, budget - done, AVP_RX_BATCH);
		u32 i, avail;

		/* Every frame taken must be returnable: free has room for it. */
		avail = avp_ring_avail(&q->rx, n);
		n = min3(n, avail, avp_ring_room(&q->free, n));
		if (unlikely(avp_ring_take_bad(&q->rx) | avp_ring_take_bad(&q->free)))
			u64_stats_inc(&delta.bad_index_errors);
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			u64 va = avp_ring_peek(&q->rx, i);
			struct sk_buff *skb;
			bool is_buffer;

			skb = avp_rx_frame(q, va, &is_buffer, &delta);
			if (is_buffer)
				avp_ring_push(&q->free, va);
			if (!skb)
				continue;
			u64_stats_inc(&delta.packets);
			u64_stats_add(&delta.bytes, skb->len);
			skb->protocol = eth_type_trans(skb, dev);
			napi_gro_receive(&q->napi, skb);
		}
		avp_ring_skip(&q->rx, n);
		/* Buffers back first, then the rx index: the host may reuse them. */
		avp_ring_publish(&q->free, true);
		avp_ring_publish(&q->rx, false);
		if (avp_ring_host(q->avp))
			u64_stats_inc(&delta.host_wakeups);
		done += n;
	}
	u64_stats_inc(&delta.polls);
	avp_rq_stats_add(&q->rx_stats, &delta);
	return done;
}
