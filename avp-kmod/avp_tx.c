// SPDX-License-Identifier: GPL-2.0
/*
 * avp_net transmit: skbs copied into buffers the host lent on the alloc
 * FIFO and queued on tx. The queue stops before it could run short, so the
 * stack never sees BUSY from us and no frame is dropped for want of a
 * buffer. TSO skbs are cut into frames by avp_tso.c.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <net/checksum.h>

#include "avp_net.h"

void
avp_update_frame_limits(struct avp_net *avp)
{
	u32 frame = min_t(u32, avp->netdev->mtu + AVP_FRAME_OVERHEAD, avp->max_frame);
	u32 segs = avp_segs_for(avp, frame);
	/* A TSO skb carries at most 64 KiB after its first headers and its
	 * frames each need their headers again, a buffer's worth at most.
	 */
	u32 bound = avp_segs_for(avp, TSO_LEGACY_MAX_SIZE + AVP_TSO_MAX_FRAMES * AVP_TSO_MAX_HDR) +
		    AVP_TSO_MAX_FRAMES;

	WRITE_ONCE(avp->tx_max_segs, segs);
	WRITE_ONCE(avp->tso_max_bufs, min(segs * AVP_TSO_MAX_FRAMES, bound));
}

/* Counts a host tx/alloc index gone out of range, once per episode. */
static void
avp_tx_check_indices(struct avp_queue *q)
{
	if (unlikely(avp_ring_take_bad(&q->alloc) | avp_ring_take_bad(&q->tx)))
		avp_sq_inc(q, &q->tx_stats.bad_index_errors);
}

/* A TSO skb is accepted only when every one of its frames can be
 * queued at once, so that none is ever half sent: while TSO is on the
 * queue keeps a reserve for the largest one in buffers and tx slots, and
 * larger skbs are segmented by the stack (avp_features_check). The
 * buffer reserve never exceeds what the host lends on this queue (the
 * most seen, lowered by avp_tx_lower_reserve): a host that lends fewer
 * than a whole 64 KiB skb needs would otherwise leave the queue stopped
 * for good.
 */
u32
avp_tx_reserve_bufs(const struct avp_net *avp, const struct avp_queue *q)
{
	u32 segs = READ_ONCE(avp->tx_max_segs);

	if (!(READ_ONCE(avp->netdev->features) & (NETIF_F_TSO | NETIF_F_TSO6)))
		return segs;
	return max(segs, min(READ_ONCE(avp->tso_max_bufs), READ_ONCE(q->alloc_peak)));
}

u32
avp_tx_reserve_slots(const struct avp_net *avp, const struct avp_queue *q)
{
	if (!(READ_ONCE(avp->netdev->features) & (NETIF_F_TSO | NETIF_F_TSO6)))
		return 1;
	return clamp_t(u32, q->tx.mask / 2, 1, AVP_TSO_MAX_FRAMES);
}

/* Room for the largest skb we accept: enough lent buffers and tx slots. */
static bool
avp_tx_has_room(struct avp_net *avp, struct avp_queue *q)
{
	u32 bufs = avp_tx_reserve_bufs(avp, q), slots = avp_tx_reserve_slots(avp, q);
	u32 avail = avp_ring_avail(&q->alloc, bufs);
	bool room = avail >= bufs && avp_ring_room(&q->tx, slots) >= slots;

	if (avail > q->alloc_peak)
		WRITE_ONCE(q->alloc_peak, avail);
	avp_tx_check_indices(q);
	return room;
}

/*
 * Picks need good buffers from the head of the alloc FIFO. Bad entries are
 * discarded (the host lent us garbage) and counted. Returns the number of
 * entries to consume on success, or -ENOSPC with the leading bad entries
 * consumed (the good ones stay for the next frame).
 */
int
avp_tx_take(struct avp_net *avp, struct avp_queue *q, struct avp_tx_buf *b, u32 need)
{
	u32 room = avp->info.mbuf_size;
	u32 avail = avp_ring_avail(&q->alloc, need);
	u32 got = 0, bad = 0, k;

	for (k = 0; k < avail && got < need; k++) {
		struct avp_tx_buf *t = &b[got];

		t->va = avp_ring_peek(&q->alloc, k);
		t->desc = avp_desc_at(&avp->xlate, t->va);
		if (t->desc) {
			t->data_va = avp_desc_read_u64(t->desc, offsetof(struct avp_desc, data));
			t->data = avp_va_to_kernel(&avp->xlate, t->data_va, room);
		}
		if (!t->desc || !t->data) {
			bad++;
			continue;
		}
		got++;
	}
	if (got < need) {
		u32 lead = 0;

		/* Drop only the bad entries before the first good one. */
		for (lead = 0; lead < k; lead++) {
			u64 va = avp_ring_peek(&q->alloc, lead);
			struct avp_desc *d = avp_desc_at(&avp->xlate, va);

			if (d &&
			    avp_va_to_kernel(&avp->xlate,
					     avp_desc_read_u64(d, offsetof(struct avp_desc, data)),
					     room))
				break;
			avp_sq_inc(q, &q->tx_stats.bad_alloc_buffers);
		}
		avp_ring_skip(&q->alloc, lead);
		return -ENOSPC;
	}
	while (bad--)
		avp_sq_inc(q, &q->tx_stats.bad_alloc_buffers);
	return k;
}

/*
 * Describes buffer s of a frame of len bytes in need buffers, n of them in
 * this one. Every field the host reads is written: fresh buffers may hold
 * the lengths and flags of their last use.
 */
void
avp_tx_desc_fill(const struct avp_tx_buf *b, u32 s, u32 need, u32 n, u32 len,
		 const struct sk_buff *skb)
{
	struct avp_desc *d = b[s].desc;
	bool tagged = s == 0 && skb_vlan_tag_present(skb);

	d->next = s + 1 < need ? b[s + 1].va : 0;
	d->data = b[s].data_va;
	d->data_len = n;
	d->nb_segs = s == 0 ? need : 1;
	d->pkt_len = s == 0 ? len : 0;
	d->ol_flags = tagged ? AVP_TX_VLAN_PKT : 0;
	d->vlan_tci = tagged ? skb_vlan_tag_get(skb) : 0;
}

/*
 * Copies skb into host buffers and queues it on tx. 0: queued (skb not
 * consumed yet); -ENOSPC: no resources, try again later; other: dropped
 * (counted; the caller frees the skb).
 */
static int
avp_tx_frame(struct avp_net *avp, struct avp_queue *q, struct sk_buff *skb)
{
	struct avp_tx_buf b[AVP_MAX_SEGMENTS];
	u32 len, need, off = 0, s, room = avp->info.mbuf_size;
	u32 csum_start, csum_field = 0;
	__wsum sum = 0;
	int used;

	len = skb->len;
	csum_start = len; /* no checksum to fill in */
	/* The checksum is summed while copying (one pass over the bytes, not
	 * two); a field beyond the first buffer (never seen) takes the slow way.
	 */
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		csum_start = skb_checksum_start_offset(skb);
		csum_field = csum_start + skb->csum_offset;
		if (csum_field + sizeof(__sum16) > room) {
			if (skb_checksum_help(skb)) {
				avp_sq_inc(q, &q->tx_stats.bad_skb_dropped);
				return -EINVAL;
			}
			csum_start = len;
		}
	}
	if (len < ETH_HLEN) {
		avp_sq_inc(q, &q->tx_stats.bad_skb_dropped);
		return -EINVAL;
	}
	if (len > avp->max_frame || avp_segs_for(avp, len) > AVP_MAX_SEGMENTS) {
		avp_sq_inc(q, &q->tx_stats.oversize_dropped);
		return -EMSGSIZE;
	}
	need = avp_segs_for(avp, len);
	if (!avp_ring_room(&q->tx, 1))
		return -ENOSPC;
	used = avp_tx_take(avp, q, b, need);
	if (used < 0)
		return used;

	for (s = 0; s < need; s++) {
		u32 n = min(len - off, room);
		u32 plain = off < csum_start ? min(n, csum_start - off) : 0;

		/* Both walk the frags: no linearising for SG frames. */
		if (WARN_ON_ONCE(skb_copy_bits(skb, off, b[s].data, plain))) {
			n = 0;
			plain = 0;
		}
		if (n > plain)
			sum = csum_block_add(sum,
					     skb_copy_and_csum_bits(skb, off + plain,
								    b[s].data + plain, n - plain),
					     off + plain - csum_start);
		off += n;
		avp_tx_desc_fill(b, s, need, n, len, skb);
	}
	if (csum_start < len) {
		__sum16 folded = csum_fold(sum) ?: CSUM_MANGLED_0;

		memcpy(b[0].data + csum_field, &folded, sizeof(folded));
	}
	avp_ring_skip(&q->alloc, used);
	avp_ring_push(&q->tx, b[0].va);

	u64_stats_update_begin(&q->tx_stats.syncp);
	u64_stats_inc(&q->tx_stats.packets);
	u64_stats_add(&q->tx_stats.bytes, len);
	u64_stats_update_end(&q->tx_stats.syncp);
	return 0;
}

/* Hands what was queued to the host, ringing it if it sleeps. */
static void
avp_tx_flush(struct avp_net *avp, struct avp_queue *q)
{
	avp_ring_publish(&q->tx, true);
	avp_ring_publish(&q->alloc, false);
	if (avp_ring_host(avp))
		avp_sq_inc(q, &q->tx_stats.host_wakeups);
}

netdev_tx_t
avp_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct avp_net *avp = netdev_priv(dev);
	unsigned int qi = skb_get_queue_mapping(skb);
	struct avp_queue *q = &avp->queues[qi];
	struct netdev_queue *txq = netdev_get_tx_queue(dev, qi);
	bool flush = !netdev_xmit_more();
	int ret;

	if (unlikely(!READ_ONCE(avp->attached))) {
		avp_sq_inc(q, &q->tx_stats.detached_dropped);
		dev_kfree_skb_any(skb);
		return NETDEV_TX_OK;
	}
	if (skb_vlan_tag_present(skb) && !avp->vlan_offload) {
		/* The host cannot insert the tag: put it into the bytes. */
		skb = __vlan_hwaccel_push_inside(skb);
		if (!skb) {
			avp_sq_inc(q, &q->tx_stats.bad_skb_dropped);
			goto done;
		}
	}
	ret = skb_is_gso(skb) ? avp_tso_xmit(avp, q, skb) : avp_tx_frame(avp, q, skb);
	avp_tx_check_indices(q);
	if (unlikely(ret == -ENOSPC)) {
		/* The queue is stopped before resources run out, so this only
		 * happens when the host took buffers back: requeue, never drop.
		 */
		netif_tx_stop_queue(txq);
		q->tx_stopped_at = jiffies;
		avp_tx_flush(avp, q);
		avp_poll_soon(q);
		return NETDEV_TX_BUSY;
	}
	if (ret)
		dev_kfree_skb_any(skb);
	else
		dev_consume_skb_any(skb);
done:
	/* Stop while the next skb still fits, so the stack never sees BUSY. */
	if (!avp_tx_has_room(avp, q)) {
		netif_tx_stop_queue(txq);
		q->tx_stopped_at = jiffies;
		avp_sq_inc(q, avp_ring_room(&q->tx, 1) ? &q->tx_stats.no_buffer_events
						       : &q->tx_stats.ring_full_events);
		flush = true;
		avp_poll_soon(q);
	}
	if (flush)
		avp_tx_flush(avp, q);
	return NETDEV_TX_OK;
}

/*
 * A queue stopped this long with buffers for a frame, but not for a whole
 * TSO skb, takes what the host lends now as its reserve: the host may have
 * parked the rest of its pool on other queues' alloc FIFOs, where it stays
 * while those queues are idle. Larger skbs then go to the stack's GSO
 * until the host lends more again. Short (a tick or two): a host that
 * lends a handful of buffers makes the queue wait this long on every
 * lowering.
 */
#define AVP_TX_RESERVE_WAIT_MS 4

static bool
avp_tx_lower_reserve(struct avp_net *avp, struct avp_queue *q)
{
	u32 segs = READ_ONCE(avp->tx_max_segs);
	u32 avail;

	if (!time_after(jiffies, q->tx_stopped_at + msecs_to_jiffies(AVP_TX_RESERVE_WAIT_MS)))
		return false;
	avail = avp_ring_avail(&q->alloc, segs);
	if (avail < segs || avail >= avp_tx_reserve_bufs(avp, q))
		return false;
	WRITE_ONCE(q->alloc_peak, avail);
	u64_stats_update_begin(&q->tx_stats.syncp);
	u64_stats_inc(&q->tx_stats.reserve_lowered);
	u64_stats_update_end(&q->tx_stats.syncp);
	return true;
}

/* NAPI side: wakes a stopped queue once the host gave buffers and room back.
 * The xmit lock makes the check and the wake atomic against start_xmit.
 */
bool
avp_tx_wake(struct avp_queue *q)
{
	struct avp_net *avp = q->avp;
	struct netdev_queue *txq = netdev_get_tx_queue(avp->netdev, q->index);
	bool woke = false;

	if (!netif_tx_queue_stopped(txq))
		return false;
	__netif_tx_lock(txq, raw_smp_processor_id());
	if (netif_tx_queue_stopped(txq) && READ_ONCE(avp->attached) &&
	    (avp_tx_has_room(avp, q) ||
	     (avp_tx_lower_reserve(avp, q) && avp_tx_has_room(avp, q)))) {
		netif_tx_wake_queue(txq);
		u64_stats_update_begin(&q->tx_stats.syncp);
		u64_stats_inc(&q->tx_stats.wake_events);
		u64_stats_update_end(&q->tx_stats.syncp);
		woke = true;
	}
	__netif_tx_unlock(txq);
	return woke;
}

/*
 * Runs on every skb before xmit: a TSO skb we could not queue whole (too
 * many frames or buffers for the reserve, headers too long, a kind we do
 * not cut) is segmented by the stack instead.
 */
netdev_features_t
avp_features_check(struct sk_buff *skb, struct net_device *dev, netdev_features_t features)
{
	struct avp_net *avp = netdev_priv(dev);
	const struct avp_queue *q;
	struct avp_tso_plan plan;
	u32 extra = 0;

	features = vlan_features_check(skb, features);
	if (!skb_is_gso(skb))
		return features;
	q = &avp->queues[min_t(u32, skb_get_queue_mapping(skb), avp->nr_queues - 1)];
	/* The tag goes into the bytes in xmit when the host cannot insert it. */
	if (skb_vlan_tag_present(skb) && !avp->vlan_offload)
		extra = VLAN_HLEN;
	if (avp_tso_plan(avp, skb, extra, &plan) || plan.bufs > avp_tx_reserve_bufs(avp, q) ||
	    plan.frames > avp_tx_reserve_slots(avp, q))
		features &= ~NETIF_F_GSO_MASK;
	return features;
}
