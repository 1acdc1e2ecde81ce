// SPDX-License-Identifier: GPL-2.0
/*
 * avp_net TSO: a TCP skb of up to 64 KiB is cut into frames of at most the
 * MTU while it is copied into the host's buffers, so the stack builds and
 * sends one skb where it would have built dozens. Every frame carries the
 * skb's headers with its own IP length (and for IPv4 id and header
 * checksum), TCP sequence number and flags (FIN and PSH on the last frame
 * only, CWR on the first only) and a TCP checksum summed during the copy:
 * the host and its peers see the frames the stack's GSO would have made.
 */
#include <linux/if_vlan.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/ip6_checksum.h>

#include "avp_net.h"

/*
 * Plans the cut of skb as it will be sent, its headers extra bytes longer
 * (a VLAN tag still to be put into the bytes). 0, or -EOPNOTSUPP for an
 * skb we do not cut (the stack segments it).
 */
int
avp_tso_plan(const struct avp_net *avp, const struct sk_buff *skb, u32 extra,
	     struct avp_tso_plan *p)
{
	const struct skb_shared_info *si = skb_shinfo(skb);
	u32 hdr, payload, full_segs;

	if (skb->encapsulation || !si->gso_size ||
	    !(si->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6)))
		return -EOPNOTSUPP;
	hdr = skb_tcp_all_headers(skb);
	if (skb->len <= hdr)
		return -EOPNOTSUPP;
	payload = skb->len - hdr;
	p->hdr_len = hdr + extra;
	p->mss = si->gso_size;
	p->ipv4 = si->gso_type & SKB_GSO_TCPV4;
	/* The headers are rewritten in a copy on the stack and must fit
	 * the first buffer; every frame must be one the host takes.
	 */
	if (p->hdr_len > AVP_TSO_MAX_HDR || p->hdr_len > avp->info.mbuf_size ||
	    p->hdr_len + p->mss > avp->max_frame)
		return -EOPNOTSUPP;
	full_segs = avp_segs_for(avp, p->hdr_len + p->mss);
	if (full_segs > AVP_MAX_SEGMENTS)
		return -EOPNOTSUPP;
	p->frames = DIV_ROUND_UP(payload, p->mss);
	p->bufs = (p->frames - 1) * full_segs +
		  avp_segs_for(avp, p->hdr_len + payload - (p->frames - 1) * p->mss);
	return 0;
}

/* The skb's headers as they were, before the first frame rewrites them. */
struct avp_tso_orig {
	u32 seq;   /* TCP sequence number of the first payload byte */
	u16 ip_id; /* IPv4 id of the first frame */
	bool fin;  /* flags that belong to one frame only */
	bool psh;
	bool cwr;
};

/*
 * Frame f: plen payload bytes from skb offset off into the need buffers of
 * b, then hdr rewritten for it and copied in front of them.
 */
static void
avp_tso_frame(const struct avp_net *avp, const struct sk_buff *skb, const struct avp_tso_plan *p,
	      const struct avp_tso_orig *o, u8 *hdr, const struct avp_tx_buf *b, u32 need, u32 off,
	      u32 plen, u32 f)
{
	u32 nh = skb_network_offset(skb), th = skb_transport_offset(skb);
	u32 len = p->hdr_len + plen, room = avp->info.mbuf_size, done = 0, s;
	struct tcphdr *tcp = (struct tcphdr *)(hdr + th);
	bool last = off + plen == skb->len;
	__wsum sum = 0;

	for (s = 0; s < need; s++) {
		u32 at = s == 0 ? p->hdr_len : 0;
		u32 n = min(plen - done, room - at);

		__wsum part = skb_copy_and_csum_bits(skb, off + done, b[s].data + at, n);

		sum = csum_block_add(sum, part, done);
		done += n;
		avp_tx_desc_fill(b, s, need, at + n, len, skb);
	}

	tcp->seq = htonl(o->seq + f * p->mss);
	tcp->fin = last && o->fin;
	tcp->psh = last && o->psh;
	tcp->cwr = f == 0 && o->cwr;
	tcp->check = 0;
	sum = csum_block_add(csum_partial(tcp, p->hdr_len - th, 0), sum, p->hdr_len - th);
	if (p->ipv4) {
		struct iphdr *iph = (struct iphdr *)(hdr + nh);

		iph->tot_len = htons(len - nh);
		iph->id = htons(o->ip_id + f);
		iph->check = 0;
		iph->check = ip_fast_csum(iph, iph->ihl);
		tcp->check = csum_tcpudp_magic(iph->saddr, iph->daddr, len - th, IPPROTO_TCP, sum);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(hdr + nh);

		ip6->payload_len = htons(len - nh - sizeof(*ip6));
		tcp->check = csum_ipv6_magic(&ip6->saddr, &ip6->daddr, len - th, IPPROTO_TCP, sum);
	}
	memcpy(b[0].data, hdr, p->hdr_len);
}

/*
 * Queues every frame of a TSO skb on tx, or none: 0 (queued, or the rest
 * dropped after the host lent bad buffers mid-way, counted), -ENOSPC (try
 * again later), other: dropped (counted; the caller frees the skb).
 */
int
avp_tso_xmit(struct avp_net *avp, struct avp_queue *q, struct sk_buff *skb)
{
	struct avp_tx_buf b[AVP_MAX_SEGMENTS];
	u8 hdr[AVP_TSO_MAX_HDR];
	struct avp_tso_plan plan;
	struct avp_tso_orig orig;
	struct tcphdr *tcp;
	u32 off, f, bytes = 0;

	if (avp_tso_plan(avp, skb, 0, &plan) ||
	    WARN_ON_ONCE(skb_copy_bits(skb, 0, hdr, plan.hdr_len))) {
		avp_sq_inc(q, &q->tx_stats.bad_skb_dropped);
		return -EINVAL;
	}
	if (avp_ring_avail(&q->alloc, plan.bufs) < plan.bufs ||
	    avp_ring_room(&q->tx, plan.frames) < plan.frames) {
		/* avp_features_check let it through under a larger reserve
		 * (the MTU changed, or the reserve was lowered since): waiting
		 * for more than the queue wakes for could wait for good. TCP
		 * resends it, cut by the stack under the limits of now.
		 */
		if (plan.bufs > avp_tx_reserve_bufs(avp, q) ||
		    plan.frames > avp_tx_reserve_slots(avp, q)) {
			avp_sq_inc(q, &q->tx_stats.tso_late_dropped);
			return -EMSGSIZE;
		}
		return -ENOSPC;
	}

	tcp = (struct tcphdr *)(hdr + skb_transport_offset(skb));
	orig.seq = ntohl(tcp->seq);
	orig.fin = tcp->fin;
	orig.psh = tcp->psh;
	orig.cwr = tcp->cwr;
	orig.ip_id = plan.ipv4 ? ntohs(((struct iphdr *)(hdr + skb_network_offset(skb)))->id) : 0;

	off = plan.hdr_len;
	for (f = 0; f < plan.frames; f++) {
		u32 plen = min(plan.mss, skb->len - off);
		u32 need = avp_segs_for(avp, plan.hdr_len + plen);
		int used = avp_tx_take(avp, q, b, need);

		if (used < 0) {
			/* Only bad entries among the buffers counted above can
			 * get here (avp_tx_take counts them). Before the first
			 * frame the skb waits like any other; after it the
			 * frames sent stand and TCP resends the rest.
			 */
			if (f == 0)
				return -ENOSPC;
			break;
		}
		avp_tso_frame(avp, skb, &plan, &orig, hdr, b, need, off, plen, f);
		avp_ring_skip(&q->alloc, used);
		avp_ring_push(&q->tx, b[0].va);
		bytes += plan.hdr_len + plen;
		off += plen;
	}

	u64_stats_update_begin(&q->tx_stats.syncp);
	u64_stats_add(&q->tx_stats.packets, f);
	u64_stats_add(&q->tx_stats.bytes, bytes);
	u64_stats_inc(&q->tx_stats.tso_skbs);
	u64_stats_add(&q->tx_stats.tso_segments, f);
	u64_stats_update_end(&q->tx_stats.syncp);
	return 0;
}
