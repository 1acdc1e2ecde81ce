/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ethdev face of an AVP port, common to all three profiles: configure,
 * queues, start/stop, link, filtering modes, MTU, VLAN offloads, and the
 * (re)attachment that probe and migration share.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_malloc.h>

#include "avp_dev.h"
#include "avp_log.h"
#include "avp_stats.h"

RTE_LOG_REGISTER(avp_logtype_driver, pmd.net.gsdk_avp.driver, NOTICE);
RTE_LOG_REGISTER(avp_logtype_init, pmd.net.gsdk_avp.init, NOTICE);
RTE_LOG_REGISTER(avp_logtype_ctrl, pmd.net.gsdk_avp.ctrl, NOTICE);
RTE_LOG_REGISTER(avp_logtype_rx, pmd.net.gsdk_avp.rx, NOTICE);
RTE_LOG_REGISTER(avp_logtype_tx, pmd.net.gsdk_avp.tx, NOTICE);

/* MTU to frame: Ethernet header, one VLAN tag and the CRC, as DPDK counts it. */
#define AVP_FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN)

void
avp_set_link(struct avp_dev *avp, bool up, bool notify)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	/* Shared memory has no line rate. */
	link.link_speed = up ? RTE_ETH_SPEED_NUM_UNKNOWN : RTE_ETH_SPEED_NUM_NONE;
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	if (rte_eth_linkstatus_set(avp->eth, &link) == 0 && notify &&
	    avp->eth->data->dev_conf.intr_conf.lsc)
		rte_eth_dev_callback_process(avp->eth, RTE_ETH_EVENT_INTR_LSC, NULL);
}

/* Tells the host what the application chose and brings the interface up. */
static int
announce(struct avp_dev *avp)
{
	const struct rte_eth_dev_data *d = avp->eth->data;
	struct avp_device_config cfg = {
		.device_id = avp->info.device_id,
		.driver_type = AVP_DRIVER_DPDK,
		.driver_version = AVP_PMD_VERSION,
		.features = avp->features,
		.num_tx_queues = d->nb_tx_queues,
		.num_rx_queues = d->nb_rx_queues,
		.if_up = 1,
	};
	int ret;

	ret = avp_ctrl_configure(&avp->ctrl, &cfg);
	/* The host sizes what it delivers by the MTU: tell it ours every time. */
	if (ret == 0)
		ret = avp_ctrl_set_mtu(&avp->ctrl, d->mtu);
	if (ret == 0)
		ret = avp_ctrl_if_up(&avp->ctrl, 1);
	avp->if_up = ret == 0;
	return ret;
}

int
avp_attach(struct avp_dev *avp, const char **why)
{
	struct rte_eth_dev_data *d = avp->eth->data;
	struct avp_device_info info;
	struct avp_xlate x;
	uint16_t i;
	int ret;

	if (avp->reload_blocks != NULL) {
		ret = avp->reload_blocks(avp, why);
		if (ret)
			return ret;
	}
	ret = avp_info_load(&avp->blocks, &info, why);
	if (ret)
		return ret;
	if (d->nb_rx_queues > info.max_rx_queues || d->nb_tx_queues > info.max_tx_queues) {
		*why = "host now offers fewer queues than configured";
		return -EINVAL;
	}
	ret = avp_xlate_build(&x, &avp->blocks, &info, why);
	if (ret)
		return ret;
	avp_xlate_free(&avp->xlate);
	avp->xlate = x;
	avp->info = info;
	avp->features &= info.features;

	ret = avp_ctrl_bind(&avp->ctrl, &avp->xlate, &avp->info, why);
	for (i = 0; ret == 0 && i < d->nb_rx_queues; i++)
		if (d->rx_queues[i] != NULL)
			ret = avp_rxq_bind(d->rx_queues[i], why);
	for (i = 0; ret == 0 && i < d->nb_tx_queues; i++)
		if (d->tx_queues[i] != NULL)
			ret = avp_txq_bind(d->tx_queues[i], why);
	if (ret)
		return ret;
	if (avp->started) {
		ret = announce(avp);
		if (ret) {
			*why = "host refused the configuration";
			return ret;
		}
	}
	__atomic_store_n(&avp->attached, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static int
avp_dev_configure(struct rte_eth_dev *eth)
{
	struct avp_dev *avp = avp_of(eth);
	const struct rte_eth_conf *conf = &eth->data->dev_conf;

	if (eth->data->nb_rx_queues > avp->info.max_rx_queues ||
	    eth->data->nb_tx_queues > avp->info.max_tx_queues) {
		AVP_DRV_LOG(ERR, "%s: %u rx / %u tx queues asked, host allows %u / %u", avp->name,
			    eth->data->nb_rx_queues, eth->data->nb_tx_queues,
			    avp->info.max_rx_queues, avp->info.max_tx_queues);
		return -EINVAL;
	}
	if (conf->rxmode.mq_mode != RTE_ETH_MQ_RX_NONE &&
	    conf->rxmode.mq_mode != RTE_ETH_MQ_RX_RSS) {
		AVP_DRV_LOG(ERR, "%s: unsupported rx multi-queue mode", avp->name);
		return -ENOTSUP;
	}
	pthread_mutex_lock(&avp->lock);
	avp->vlan_strip = !!(conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
	avp->vlan_insert = !!(conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
	/* Host-side VLAN work only when the application uses a VLAN offload. */
	avp->features = (avp->vlan_strip || avp->vlan_insert)
				? (avp->info.features & AVP_FEATURE_VLAN_OFFLOAD)
				: 0;
	pthread_mutex_unlock(&avp->lock);
	return 0;
}

static int
avp_dev_infos_get(struct rte_eth_dev *eth, struct rte_eth_dev_info *di)
{
	const struct avp_dev *avp = avp_of(eth);

	di->max_rx_queues = avp->info.max_rx_queues;
	di->max_tx_queues = avp->info.max_tx_queues;
	di->max_mac_addrs = 1;
	di->max_rx_pktlen = avp->info.max_rx_pkt_len;
	di->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	di->min_mtu = RTE_ETHER_MIN_MTU;
	di->max_mtu = avp->info.max_rx_pkt_len - AVP_FRAME_OVERHEAD;
	di->rx_offload_capa = RTE_ETH_RX_OFFLOAD_VLAN_STRIP | RTE_ETH_RX_OFFLOAD_SCATTER;
	di->tx_offload_capa = RTE_ETH_TX_OFFLOAD_VLAN_INSERT | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	di->speed_capa = RTE_ETH_LINK_SPEED_FIXED;
	di->rx_desc_lim.nb_max = UINT16_MAX;
	di->tx_desc_lim.nb_max = UINT16_MAX;
	di->default_rxportconf.nb_queues = avp->info.num_rx_queues;
	di->default_txportconf.nb_queues = avp->info.num_tx_queues;
	di->default_rxportconf.burst_size = AVP_BURST;
	di->default_txportconf.burst_size = AVP_BURST;
	return 0;
}

static int
avp_dev_start(struct rte_eth_dev *eth)
{
	struct avp_dev *avp = avp_of(eth);
	uint16_t i;
	int ret = 0;

	pthread_mutex_lock(&avp->lock);
	avp->started = true;
	if (__atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST)) {
		ret = announce(avp);
		if (ret) {
			avp->started = false;
			AVP_DRV_LOG(ERR, "%s: host refused start: %s", avp->name, strerror(-ret));
		}
	}
	/* A detached port starts with its link down; attach brings it up. */
	avp_set_link(avp,
		     avp->started && avp->if_up &&
			     __atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST),
		     false);
	pthread_mutex_unlock(&avp->lock);
	if (ret)
		return ret;
	for (i = 0; i < eth->data->nb_rx_queues; i++)
		eth->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (i = 0; i < eth->data->nb_tx_queues; i++)
		eth->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

static int
avp_dev_stop(struct rte_eth_dev *eth)
{
	struct avp_dev *avp = avp_of(eth);
	uint16_t i;

	pthread_mutex_lock(&avp->lock);
	if (avp->started && avp->if_up && __atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST))
		(void)avp_ctrl_if_up(&avp->ctrl, 0);
	avp->started = false;
	avp->if_up = false;
	avp_set_link(avp, false, false);
	pthread_mutex_unlock(&avp->lock);
	for (i = 0; i < eth->data->nb_rx_queues; i++)
		eth->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (i = 0; i < eth->data->nb_tx_queues; i++)
		eth->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static void
avp_rx_queue_release(struct rte_eth_dev *eth, uint16_t qid)
{
	rte_free(eth->data->rx_queues[qid]);
	eth->data->rx_queues[qid] = NULL;
}

static void
avp_tx_queue_release(struct rte_eth_dev *eth, uint16_t qid)
{
	rte_free(eth->data->tx_queues[qid]);
	eth->data->tx_queues[qid] = NULL;
}

static int
avp_dev_close(struct rte_eth_dev *eth)
{
	struct avp_dev *avp = avp_of(eth);
	uint16_t i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	avp_migration_poll_stop(avp);
	pthread_mutex_lock(&avp->lock);
	if (__atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST))
		(void)avp_ctrl_shutdown(&avp->ctrl);
	__atomic_store_n(&avp->attached, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&avp->lock);
	for (i = 0; i < eth->data->nb_rx_queues; i++)
		avp_rx_queue_release(eth, i);
	for (i = 0; i < eth->data->nb_tx_queues; i++)
		avp_tx_queue_release(eth, i);
	avp_xlate_free(&avp->xlate);
	if (avp->release_front != NULL)
		avp->release_front(avp);
	avp->release_front = NULL;
	pthread_mutex_destroy(&avp->lock);
	return 0;
}

static int
avp_rx_queue_setup(struct rte_eth_dev *eth, uint16_t qid, uint16_t nb_desc, unsigned int socket,
		   const struct rte_eth_rxconf *conf, struct rte_mempool *mp)
{
	struct avp_dev *avp = avp_of(eth);
	const char *why = "";
	struct avp_rxq *q;
	uint32_t room;
	int ret = 0;

	room = rte_pktmbuf_data_room_size(mp);
	if (room <= RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN) {
		AVP_DRV_LOG(ERR, "%s: mbufs of %s too small", avp->name, mp->name);
		return -EINVAL;
	}
	avp_rx_queue_release(eth, qid);
	q = rte_zmalloc_socket("gsdk_avp_rxq", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return -ENOMEM;
	q->avp = avp;
	q->qid = qid;
	q->mp = mp;
	q->room = room - RTE_PKTMBUF_HEADROOM;
	pthread_mutex_lock(&avp->lock);
	if (__atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST))
		ret = avp_rxq_bind(q, &why);
	pthread_mutex_unlock(&avp->lock);
	if (ret) {
		AVP_DRV_LOG(ERR, "%s: rx queue %u: %s", avp->name, qid, why);
		rte_free(q);
		return ret;
	}
	eth->data->rx_queues[qid] = q;
	return 0;
}

static int
avp_tx_queue_setup(struct rte_eth_dev *eth, uint16_t qid, uint16_t nb_desc, unsigned int socket,
		   const struct rte_eth_txconf *conf)
{
	struct avp_dev *avp = avp_of(eth);
	const char *why = "";
	struct avp_txq *q;
	int ret = 0;

	avp_tx_queue_release(eth, qid);
	q = rte_zmalloc_socket("gsdk_avp_txq", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL)
		return -ENOMEM;
	q->avp = avp;
	q->qid = qid;
	pthread_mutex_lock(&avp->lock);
	if (__atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST))
		ret = avp_txq_bind(q, &why);
	pthread_mutex_unlock(&avp->lock);
	if (ret) {
		AVP_DRV_LOG(ERR, "%s: tx queue %u: %s", avp->name, qid, why);
		rte_free(q);
		return ret;
	}
	eth->data->tx_queues[qid] = q;
	return 0;
}

static int
avp_link_update(struct rte_eth_dev *eth, int wait)
{
	struct avp_dev *avp = avp_of(eth);

	avp_set_link(avp,
		     avp->started && avp->if_up &&
			     __atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST),
		     false);
	return 0;
}

/* Filtering happens on receive from the live dev->data flags: nothing to tell the host. */
static int
avp_filter_mode_changed(struct rte_eth_dev *eth)
{
	return 0;
}

static int
avp_mtu_set(struct rte_eth_dev *eth, uint16_t mtu)
{
	struct avp_dev *avp = avp_of(eth);
	int ret = 0;

	if ((uint32_t)mtu + AVP_FRAME_OVERHEAD > avp->info.max_rx_pkt_len)
		return -EINVAL;
	pthread_mutex_lock(&avp->lock);
	if (__atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST))
		ret = avp_ctrl_set_mtu(&avp->ctrl, mtu);
	if (ret == 0)
		avp->mtu = mtu;
	pthread_mutex_unlock(&avp->lock);
	return ret;
}

static int
avp_vlan_offload_set(struct rte_eth_dev *eth, int mask)
{
	struct avp_dev *avp = avp_of(eth);
	const struct rte_eth_conf *conf = &eth->data->dev_conf;
	uint32_t features;
	int ret = 0;

	pthread_mutex_lock(&avp->lock);
	if (mask & RTE_ETH_VLAN_STRIP_MASK)
		avp->vlan_strip = !!(conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
	features = (avp->vlan_strip || avp->vlan_insert)
			   ? (avp->info.features & AVP_FEATURE_VLAN_OFFLOAD)
			   : 0;
	if (features != avp->features) {
		avp->features = features;
		if (avp->started && __atomic_load_n(&avp->attached, __ATOMIC_SEQ_CST))
			ret = announce(avp);
	}
	pthread_mutex_unlock(&avp->lock);
	return ret;
}

static int
avp_set_mc_addr_list(struct rte_eth_dev *eth, struct rte_ether_addr *list, uint32_t n)
{
	struct avp_dev *avp = avp_of(eth);

	if (n > AVP_MAX_MC_ADDRS)
		return -ENOSPC;
	memcpy(avp->mc, list, n * sizeof(*list));
	avp->nb_mc = n;
	return 0;
}

static int
avp_mac_addr_set(struct rte_eth_dev *eth, struct rte_ether_addr *addr)
{
	/* ethdev stores it in mac_addrs[0], which the receive filter reads. */
	return 0;
}

static const struct eth_dev_ops avp_ops = {
	.dev_configure = avp_dev_configure,
	.dev_infos_get = avp_dev_infos_get,
	.dev_start = avp_dev_start,
	.dev_stop = avp_dev_stop,
	.dev_close = avp_dev_close,
	.link_update = avp_link_update,
	.promiscuous_enable = avp_filter_mode_changed,
	.promiscuous_disable = avp_filter_mode_changed,
	.allmulticast_enable = avp_filter_mode_changed,
	.allmulticast_disable = avp_filter_mode_changed,
	.stats_get = avp_stats_get,
	.stats_reset = avp_stats_reset,
	.xstats_get = avp_xstats_get,
	.xstats_get_names = avp_xstats_get_names,
	.xstats_reset = avp_xstats_reset,
	.mtu_set = avp_mtu_set,
	.vlan_offload_set = avp_vlan_offload_set,
	.set_mc_addr_list = avp_set_mc_addr_list,
	.mac_addr_set = avp_mac_addr_set,
	.rx_queue_setup = avp_rx_queue_setup,
	.rx_queue_release = avp_rx_queue_release,
	.tx_queue_setup = avp_tx_queue_setup,
	.tx_queue_release = avp_tx_queue_release,
};

int
avp_dev_init(struct rte_eth_dev *eth, enum avp_profile profile, const struct avp_blocks *blocks)
{
	struct avp_dev *avp = avp_of(eth);
	const char *why = "";
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		AVP_INIT_LOG(ERR, "%s: secondary processes are not supported", eth->data->name);
		return -ENOTSUP;
	}
	avp->eth = eth;
	avp->profile = profile;
	avp->name = eth->data->name;
	avp->blocks = *blocks;
	pthread_mutex_init(&avp->lock, NULL);
	avp_burst_fence_init();

	ret = avp_migration_check_at_probe(avp);
	if (ret) {
		AVP_INIT_LOG(ERR, "%s: device is detached (migration in progress)", avp->name);
		goto fail;
	}
	ret = avp_info_load(&avp->blocks, &avp->info, &why);
	if (ret == 0)
		ret = avp_xlate_build(&avp->xlate, &avp->blocks, &avp->info, &why);
	if (ret == 0)
		ret = avp_ctrl_bind(&avp->ctrl, &avp->xlate, &avp->info, &why);
	if (ret) {
		AVP_INIT_LOG(ERR, "%s: %s", avp->name, why);
		goto fail_xlate;
	}

	eth->data->mac_addrs = rte_zmalloc("gsdk_avp_mac", RTE_ETHER_ADDR_LEN, 0);
	if (eth->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail_xlate;
	}
	memcpy(eth->data->mac_addrs, avp->info.ethaddr, RTE_ETHER_ADDR_LEN);
	if (rte_is_zero_ether_addr(eth->data->mac_addrs))
		rte_eth_random_addr(eth->data->mac_addrs->addr_bytes);

	eth->dev_ops = &avp_ops;
	eth->rx_pkt_burst = avp_recv;
	eth->tx_pkt_burst = avp_xmit;
	eth->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS | RTE_ETH_DEV_INTR_LSC;
	avp->mtu = RTE_ETHER_MTU;
	__atomic_store_n(&avp->attached, 1, __ATOMIC_SEQ_CST);
	avp_set_link(avp, false, false);
	avp_migration_poll_start(avp);
	AVP_INIT_LOG(INFO,
		     "%s: %s profile, host version 0x%x, device id 0x%" PRIx64
		     ", %u/%u rx/tx queues max, %u-byte buffers, max frame %u",
		     avp->name,
		     profile == AVP_PROFILE_LEGACY    ? "legacy PCI"
		     : profile == AVP_PROFILE_IVSHMEM ? "ivshmem PCI"
						      : "file",
		     avp->info.version, avp->info.device_id, avp->info.max_rx_queues,
		     avp->info.max_tx_queues, avp->info.mbuf_size, avp->info.max_rx_pkt_len);
	return 0;

fail_xlate:
	avp_xlate_free(&avp->xlate);
fail:
	pthread_mutex_destroy(&avp->lock);
	return ret;
}
