// SPDX-License-Identifier: GPL-2.0
/*
 * avp_net: Linux network driver for AVP, the shared-memory virtual NIC.
 *
 * The host's switch owns every packet buffer; this driver copies each frame
 * into host buffers on transmit and out of them on receive. Per queue pair
 * there are four FIFOs of host addresses: tx (frames to the host), alloc
 * (empty buffers the host lends us for tx), rx (frames from the host) and
 * free (rx buffers we hand back). Control requests (MTU, up/down, queue
 * counts) travel on two more FIFOs through a sync area.
 *
 * Two ways to reach a device (avp-model/include/avp/): the legacy PCI layout
 * (1af4:1110 subsystem 1af4:1104: registers in BAR0, MSI-X in BAR1, memory
 * in BAR2, memory map in BAR4, device info in BAR5) and QEMU's stock
 * ivshmem-plain / ivshmem-doorbell (subsystem 1af4:1100) whose BAR2 holds
 * our region: a header, emulated registers, the same memory map and device
 * info, the data, and optionally an interrupt area.
 *
 * Receive is NAPI. A queue with an MSI-X vector (ivshmem-doorbell) arms its
 * interrupt when NAPI completes; one without is polled from an hrtimer whose
 * period grows while the queue stays idle, so a quiet port costs a few
 * wakeups per second and a busy one never leaves NAPI.
 *
 * The host is not trusted: every host address, length, chain link and FIFO
 * index goes through avp_shm.[ch] before use; a bad one drops the frame and
 * counts, and is never followed.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/hrtimer.h>
#include <linux/if_vlan.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/rtnetlink.h>
#include <linux/u64_stats_sync.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/checksum.h>

#include "avp_net.h"

static unsigned int queues;
module_param(queues, uint, 0444);
MODULE_PARM_DESC(queues, "Queue pairs per device (0: one per CPU, at most what the host offers)");

static unsigned int poll_min_us = 50;
module_param(poll_min_us, uint, 0644);
MODULE_PARM_DESC(poll_min_us, "Timer polling: period right after work was found (us)");

static unsigned int poll_max_us = 2000;
module_param(poll_max_us, uint, 0644);
MODULE_PARM_DESC(poll_max_us, "Timer polling: longest period of an idle queue (us)");

static unsigned int ctrl_timeout_ms = 1500;
module_param(ctrl_timeout_ms, uint, 0644);
MODULE_PARM_DESC(ctrl_timeout_ms, "How long one control request waits for the host (ms)");

static unsigned int migration_poll_ms = 20;
module_param(migration_poll_ms, uint, 0644);
MODULE_PARM_DESC(migration_poll_ms, "Migration status polling period without an interrupt (ms)");

static bool use_msix = true;
module_param(use_msix, bool, 0444);
MODULE_PARM_DESC(use_msix, "Use MSI-X vectors where the device offers them (else poll)");

/* ---- statistics ------------------------------------------------------ */

struct avp_stat_desc {
	char name[ETH_GSTRING_LEN];
	size_t offset;
};

#define AVP_RQ_STAT(n)                                                                             \
	{                                                                                          \
#n, offsetof(struct avp_rq_stats, n)                                               \
	}
#define AVP_SQ_STAT(n)                                                                             \
	{                                                                                          \
#n, offsetof(struct avp_sq_stats, n)                                               \
	}

/* Named as the DPDK driver's xstats (rx_<name> totals, rx_q<N>_<name> per queue). */
static const struct avp_stat_desc avp_rq_stats_desc[] = {
	AVP_RQ_STAT(packets),
	AVP_RQ_STAT(bytes),
	AVP_RQ_STAT(bad_address_errors),
	AVP_RQ_STAT(bad_length_errors),
	AVP_RQ_STAT(bad_chain_errors),
	AVP_RQ_STAT(bad_index_errors),
	AVP_RQ_STAT(alloc_errors),
	AVP_RQ_STAT(pool_frames),
	AVP_RQ_STAT(polls),
	AVP_RQ_STAT(host_wakeups),
};

static const struct avp_stat_desc avp_sq_stats_desc[] = {
	AVP_SQ_STAT(packets),	       AVP_SQ_STAT(bytes),
	AVP_SQ_STAT(oversize_dropped), AVP_SQ_STAT(bad_skb_dropped),
	AVP_SQ_STAT(detached_dropped), AVP_SQ_STAT(bad_alloc_buffers),
	AVP_SQ_STAT(bad_index_errors), AVP_SQ_STAT(no_buffer_events),
	AVP_SQ_STAT(ring_full_events), AVP_SQ_STAT(wake_events),
	AVP_SQ_STAT(tso_skbs),	       AVP_SQ_STAT(tso_segments),
	AVP_SQ_STAT(reserve_lowered),  AVP_SQ_STAT(tso_late_dropped),
	AVP_SQ_STAT(host_wakeups),
};

/* Device-wide counters, after the per-queue totals. */
static const char *const avp_dev_stats_names[] = {
	"ctrl_requests",    "ctrl_timeouts",	"ctrl_errors",
	"migration_detach", "migration_attach", "migration_errors",
	"migration_checks", "ctrl_interrupts",	"rx_interrupts",
	"ctrl_rings",
};

#define AVP_RQ_STATS_LEN  ARRAY_SIZE(avp_rq_stats_desc)
#define AVP_SQ_STATS_LEN  ARRAY_SIZE(avp_sq_stats_desc)
#define AVP_DEV_STATS_LEN ARRAY_SIZE(avp_dev_stats_names)

/* ---- helpers ------------------------------------------------------------ */

static u32
avp_reg_read(const struct avp_net *avp, unsigned int off)
{
	if (avp->bar0)
		return ioread32((u8 __iomem *)avp->bar0 + off);
	/* acquire: what the host wrote before the register is seen after it */
	return smp_load_acquire(&avp->blocks.regs[off / 4]);
}

static void
avp_reg_write(struct avp_net *avp, unsigned int off, u32 v)
{
	if (avp->bar0)
		iowrite32(v, (u8 __iomem *)avp->bar0 + off);
	else /* release: what we wrote before reaches the host first */
		smp_store_release(&avp->blocks.regs[off / 4], v);
}

/* Interrupt status clears on read on the legacy device; a shared word
 * cannot, so there the guest exchanges it with 0.
 */
static u32
avp_irq_status_take(struct avp_net *avp)
{
	if (avp->bar0)
		return ioread32((u8 __iomem *)avp->bar0 + AVP_REG_INTERRUPT_STATUS);
	return xchg(&avp->blocks.regs[AVP_REG_INTERRUPT_STATUS / 4], 0);
}

static void
avp_ack_migration(struct avp_net *avp, u32 state)
{
	avp_reg_write(avp, AVP_REG_MIGRATION_ACK, state);
}

/* ---- control requests ---------------------------------------------------- */

static const char *const avp_request_names[AVP_REQ_MAX] = {
	[AVP_REQ_UNKNOWN] = "unknown",
	[AVP_REQ_CHANGE_MTU] = "change-mtu",
	[AVP_REQ_CFG_NETWORK_IF] = "cfg-network-if",
	[AVP_REQ_CFG_DEVICE] = "cfg-device",
	[AVP_REQ_SHUTDOWN] = "shutdown",
};

static bool
avp_ctrl_answered(struct avp_ctrl *c)
{
	return avp_ring_avail(&c->resp, 1) > 0;
}

/* Sends *req and waits for the host's answer; 0 or a negative errno. */
static int
avp_ctrl_request(struct avp_net *avp, struct avp_request *req, unsigned int timeout_ms)
{
	const char *name = avp_request_names[req->req_id < AVP_REQ_MAX ? req->req_id : 0];
	struct avp_ctrl *c = &avp->ctrl;
	unsigned long deadline;
	s32 result;
	u64 answer;
	int ret;

	mutex_lock(&c->lock);
	if (!c->sync) {
		ret = -ENODEV;
		goto out;
	}
	c->requests++;
	/* An answer that came after an earlier timeout is not this one's. */
	while (avp_ctrl_answered(c))
		avp_ring_skip(&c->resp, 1);
	avp_ring_publish(&c->resp, false);

	/* A host that answers without writing a result has not done the work. */
	req->result = -EIO;
	memcpy(c->sync, req, sizeof(*req));
	if (!avp_ring_room(&c->req, 1)) {
		c->errors++;
		netdev_err(avp->netdev, "%s: request FIFO full\n", name);
		ret = -ENOSPC;
		goto out;
	}
	avp_ring_push(&c->req, c->sync_va);
	avp_ring_publish(&c->req, true);
	/* A host that offers it serves the request now rather than at its next look. */
	if (avp->ivshmem_regs && avp->ctrl_doorbell) {
		avp_doorbell_write(avp, avp->ctrl_doorbell);
		c->rings++;
	}

	deadline = jiffies + msecs_to_jiffies(timeout_ms);
	while (!avp_ctrl_answered(c)) {
		if (time_after(jiffies, deadline)) {
			c->timeouts++;
			netdev_err(avp->netdev, "%s: no answer from the host in %u ms\n", name,
				   timeout_ms);
			ret = -ETIMEDOUT;
			goto out;
		}
		if (avp->ctrl_irq)
			wait_event_timeout(c->wait, avp_ctrl_answered(c), msecs_to_jiffies(10));
		else
			usleep_range(200, 500);
	}
	answer = avp_ring_peek(&c->resp, 0);
	avp_ring_skip(&c->resp, 1);
	avp_ring_publish(&c->resp, false);
	if (answer != c->sync_va) {
		c->errors++;
		netdev_err(avp->netdev, "%s: host answered with 0x%llx, not the sync area\n", name,
			   answer);
		ret = -EPROTO;
		goto out;
	}
	memcpy(&result, (u8 *)c->sync + offsetof(struct avp_request, result), sizeof(result));
	if (result > 0 || result < -MAX_ERRNO) {
		c->errors++;
		netdev_err(avp->netdev, "%s: host returned nonsense result %d\n", name, result);
		ret = -EPROTO;
		goto out;
	}
	if (result) {
		c->errors++;
		netdev_err(avp->netdev, "%s: host refused: %d\n", name, result);
	}
	ret = result;
out:
	mutex_unlock(&c->lock);
	return ret;
}

static int
avp_ctrl_configure(struct avp_net *avp, bool up)
{
	struct avp_request r = {.req_id = AVP_REQ_CFG_DEVICE};

	r.config.device_id = avp->info.device_id;
	r.config.driver_type = AVP_DRIVER_KERNEL;
	r.config.driver_version = AVP_GUEST_VERSION;
	r.config.features = avp->vlan_offload ? AVP_FEATURE_VLAN_OFFLOAD : 0;
	r.config.num_tx_queues = avp->nr_queues;
	r.config.num_rx_queues = avp->nr_queues;
	r.config.if_up = up;
	return avp_ctrl_request(avp, &r, ctrl_timeout_ms);
}

static int
avp_ctrl_set_mtu(struct avp_net *avp, unsigned int mtu)
{
	struct avp_request r = {.req_id = AVP_REQ_CHANGE_MTU};

	r.new_mtu = mtu;
	return avp_ctrl_request(avp, &r, ctrl_timeout_ms);
}

static int
avp_ctrl_if_up(struct avp_net *avp, bool up)
{
	struct avp_request r = {.req_id = AVP_REQ_CFG_NETWORK_IF};

	r.if_up = up;
	return avp_ctrl_request(avp, &r, ctrl_timeout_ms);
}

static int
avp_ctrl_shutdown(struct avp_net *avp, unsigned int timeout_ms)
{
	struct avp_request r = {.req_id = AVP_REQ_SHUTDOWN};

	return avp_ctrl_request(avp, &r, timeout_ms);
}

/* ---- attaching to the host's memory ----------------------------------- */

/*
 * (Re)reads the device info, the memory map and every FIFO address, as at
 * probe and after a migration moved the device. Nothing of the old view is
 * touched until the new one checked out.
 */
static int
avp_attach(struct avp_net *avp, const char **why)
{
	struct avp_device_info info;
	struct avp_xlate x;
	struct avp_ring *rings;
	unsigned int q;
	int ret;

	ret = avp_info_load(&avp->blocks, &info, AVP_GUEST_VERSION, why);
	if (ret)
		return ret;
	if (min(info.max_rx_queues, info.max_tx_queues) < avp->max_queues) {
		*why = "the host offers fewer queues than the interface has";
		return -EINVAL;
	}
	ret = avp_xlate_build(&x, &avp->blocks, &info, why);
	if (ret)
		return ret;

	/* req, resp, then tx, alloc, rx, free of each queue */
	rings = kcalloc(2 + 4 * avp->max_queues, sizeof(*rings), GFP_KERNEL);
	if (!rings) {
		*why = "out of memory";
		ret = -ENOMEM;
		goto fail;
	}
	ret = avp_ring_bind(&rings[0], &x, info.req_phys, 0, 0, true, why);
	if (!ret)
		ret = avp_ring_bind(&rings[1], &x, info.resp_phys, 0, 0, false, why);
	for (q = 0; !ret && q < avp->max_queues; q++) {
		struct avp_ring *r = &rings[2 + 4 * q];

		ret = avp_ring_bind(&r[0], &x, info.tx_phys, info.tx_size, q, true, why);
		if (!ret)
			ret = avp_ring_bind(&r[1], &x, info.alloc_phys, info.alloc_size, q, false,
					    why);
		if (!ret)
			ret = avp_ring_bind(&r[2], &x, info.rx_phys, info.rx_size, q, false, why);
		if (!ret)
			ret = avp_ring_bind(&r[3], &x, info.free_phys, info.free_size, q, true,
					    why);
	}
	if (ret)
		goto fail;
	if (!avp_phys_to_kernel(&x, info.sync_phys, sizeof(struct avp_request))) {
		*why = "sync area outside the shared memory";
		ret = -EINVAL;
		goto fail;
	}

	/* Commit: the datapath is stopped, nothing reads the old view. */
	mutex_lock(&avp->ctrl.lock);
	avp->ctrl.req = rings[0];
	avp->ctrl.resp = rings[1];
	avp->ctrl.sync = avp_phys_to_kernel(&x, info.sync_phys, sizeof(struct avp_request));
	avp->ctrl.sync_va = info.sync_va;
	mutex_unlock(&avp->ctrl.lock);
	for (q = 0; q < avp->max_queues; q++) {
		struct avp_queue *aq = &avp->queues[q];
		struct avp_ring *r = &rings[2 + 4 * q];

		aq->tx = r[0];
		aq->alloc = r[1];
		aq->rx = r[2];
		aq->free = r[3];
	}
	avp_xlate_free(&avp->xlate);
	avp->xlate = x;
	avp->info = info;
	avp->vlan_offload = info.features & AVP_FEATURE_VLAN_OFFLOAD;
	avp->max_frame = min_t(u32, info.max_rx_pkt_len, AVP_MAX_SEGMENTS * info.mbuf_size);
	kfree(rings);
	return 0;
fail:
	kfree(rings);
	avp_xlate_free(&x);
	return ret;
}

/* ---- NAPI and polling ----------------------------------------------------- */

/* Frames on rx that a poll could take now (free has room to return them). */
static bool
avp_rx_ready(struct avp_queue *q)
{
	return avp_ring_avail(&q->rx, 1) > 0 && avp_ring_room(&q->free, 1) > 0;
}

/*
 * After NAPI completed: with a vector, arm it and look once more (the host
 * signals only an armed queue, and fences between publishing an index and
 * reading `armed`, as we do between storing it and re-reading the FIFOs, so
 * a frame posted meanwhile is seen by one side or the other). An idle armed
 * queue then costs nothing until the host has work for it. Without a
 * vector, poll again from the timer: sooner while busy, backing off to
 * poll_max_us while idle. A queue the timer keeps even with a vector:
 * one whose transmit side is stopped (the host signals buffers on alloc
 * but nothing when it drains a full tx FIFO), or whose frames cannot be
 * taken because the host does not take returns from free.
 */
static void
avp_poll_rearm(struct avp_queue *q, bool busy)
{
	u64 min_ns = (u64)max(poll_min_us, 1U) * NSEC_PER_USEC;
	u64 max_ns = max_t(u64, (u64)poll_max_us * NSEC_PER_USEC, min_ns);
	struct netdev_queue *txq = netdev_get_tx_queue(q->avp->netdev, q->index);

	if (q->irq_line) {
		/* full barrier: armed is visible before rx is checked again */
		smp_store_mb(q->irq_line->armed, 1);
		if (avp_rx_ready(q)) {
			napi_schedule(&q->napi);
			return;
		}
		if (!netif_tx_queue_stopped(txq) && !avp_ring_avail(&q->rx, 1))
			return;
		busy = false;
	}
	if (busy)
		q->poll_ns = min_ns;
	else
		q->poll_ns = min(q->poll_ns * 2, max_ns);
	hrtimer_start_range_ns(&q->poll_timer, ns_to_ktime(q->poll_ns), q->poll_ns / 4,
			       HRTIMER_MODE_REL);
}

static int
avp_poll(struct napi_struct *napi, int budget)
{
	struct avp_queue *q = container_of(napi, struct avp_queue, napi);
	bool woke;
	int done;

	done = avp_receive(q, budget);
	woke = avp_tx_wake(q);
	if (done < budget && napi_complete_done(napi, done))
		avp_poll_rearm(q, done || woke);
	return done;
}

static enum hrtimer_restart
avp_poll_timer(struct hrtimer *t)
{
	struct avp_queue *q = container_of(t, struct avp_queue, poll_timer);

	napi_schedule(&q->napi);
	return HRTIMER_NORESTART;
}

static irqreturn_t
avp_queue_interrupt(int irq, void *data)
{
	struct avp_queue *q = data;

	/* One handler per vector never runs twice at once: a plain count. */
	WRITE_ONCE(q->irq_count, q->irq_count + 1);
	napi_schedule_irqoff(&q->napi);
	return IRQ_HANDLED;
}

/* Vector 0: migration status changed (both layouts) or a control answer
 * was posted (doorbell).
 */
static irqreturn_t
avp_ctrl_interrupt(int irq, void *data)
{
	struct avp_net *avp = data;

	WRITE_ONCE(avp->ctrl_irq_count, avp->ctrl_irq_count + 1);
	if (avp->profile == AVP_PROFILE_LEGACY &&
	    !(avp_irq_status_take(avp) & AVP_MIGRATION_INTERRUPT))
		return IRQ_HANDLED;
	wake_up(&avp->ctrl.wait);
	if (!READ_ONCE(avp->removing))
		mod_delayed_work(system_power_efficient_wq, &avp->migration_work, 0);
	return IRQ_HANDLED;
}

/* ---- up and down ------------------------------------------------------------ */

static void
avp_datapath_stop(struct avp_net *avp)
{
	unsigned int q;

	if (!avp->datapath_up)
		return;
	netif_carrier_off(avp->netdev);
	/* NAPI first: once it is off nothing wakes a queue behind our back. */
	for (q = 0; q < avp->nr_queues; q++) {
		struct avp_queue *aq = &avp->queues[q];

		napi_disable(&aq->napi);
		hrtimer_cancel(&aq->poll_timer);
		if (aq->irq_line)
			WRITE_ONCE(aq->irq_line->armed, 0);
		avp_rx_pool_destroy(aq);
	}
	netif_tx_disable(avp->netdev);
	avp->datapath_up = false;
}

/* Starts queues and tells the host we are up; carrier follows its answer. */
static int
avp_datapath_start(struct avp_net *avp)
{
	unsigned int q;
	int ret;

	for (q = 0; q < avp->nr_queues; q++) {
		avp->queues[q].poll_ns = (u64)poll_min_us * NSEC_PER_USEC;
		/* A host met anew (attach) proves again how much it lends. */
		avp->queues[q].alloc_peak = 0;
		avp_rx_pool_create(&avp->queues[q]);
		napi_enable(&avp->queues[q].napi);
	}
	avp->datapath_up = true;
	/* After an attach the host's irq area is new: promise again. */
	if (avp->ivshmem_regs)
		WRITE_ONCE(avp->wake_area->guest_rings, 1);
	netif_tx_start_all_queues(avp->netdev);
	ret = avp_ctrl_configure(avp, true);
	if (!ret)
		ret = avp_ctrl_set_mtu(avp, avp->netdev->mtu);
	if (ret) {
		avp_datapath_stop(avp);
		return ret;
	}
	netif_carrier_on(avp->netdev);
	/* The first poll arms the interrupt or the timer. */
	for (q = 0; q < avp->nr_queues; q++) {
		local_bh_disable();
		napi_schedule(&avp->queues[q].napi);
		local_bh_enable();
	}
	return 0;
}

static int
avp_open(struct net_device *dev)
{
	struct avp_net *avp = netdev_priv(dev);

	netif_carrier_off(dev);
	/* Detached: up without a link; the attach brings the datapath. */
	if (!avp->attached)
		return 0;
	return avp_datapath_start(avp);
}

static int
avp_close(struct net_device *dev)
{
	struct avp_net *avp = netdev_priv(dev);

	avp_datapath_stop(avp);
	if (avp->attached)
		avp_ctrl_if_up(avp, false);
	return 0;
}

/* ---- live migration ------------------------------------------------------------ */

static void
avp_on_detach(struct avp_net *avp, u32 st)
{
	WRITE_ONCE(avp->attached, false);
	avp_datapath_stop(avp);
	if (st == AVP_MIGRATION_DETACHED && netif_running(avp->netdev))
		avp_ctrl_shutdown(avp, AVP_DETACH_SHUTDOWN_TIMEOUT_MS);
	avp_ack_migration(avp, st);
	if (st == AVP_MIGRATION_DETACHED) {
		avp->mig_detach++;
		netdev_info(avp->netdev, "detached by the host\n");
	} else {
		avp->mig_errors++;
		netdev_err(avp->netdev, "the host reports a migration error\n");
	}
}

static void
avp_on_attach(struct avp_net *avp)
{
	const char *why = "";
	int ret;

	WRITE_ONCE(avp->attached, false);
	avp_datapath_stop(avp);
	ret = avp_attach(avp, &why);
	if (ret) {
		avp->mig_errors++;
		avp_ack_migration(avp, AVP_MIGRATION_ERROR);
		netdev_err(avp->netdev, "re-attach refused: %s (%d)\n", why, ret);
		return;
	}
	WRITE_ONCE(avp->attached, true);
	avp_update_frame_limits(avp);
	if (netif_running(avp->netdev)) {
		ret = avp_datapath_start(avp);
		if (ret)
			netdev_err(avp->netdev,
				   "the host refused the configuration after attach: %d\n", ret);
	}
	avp->mig_attach++;
	avp_ack_migration(avp, AVP_MIGRATION_ATTACHED);
	netdev_info(avp->netdev, "attached again (device id 0x%llx)\n", avp->info.device_id);
}

/*
 * Acts once per change of the migration status. Polled (ivshmem-plain has
 * no interrupt, and reading one word every few ms costs little), or, where
 * vector 0 exists, run only when it fires (the host signals every status
 * change on it) and once after probe: an idle port then takes no wake-ups.
 */
static void
avp_migration_work(struct work_struct *work)
{
	struct avp_net *avp = container_of(to_delayed_work(work), struct avp_net, migration_work);
	u32 st;

	rtnl_lock();
	avp->mig_checks++;
	st = avp_reg_read(avp, AVP_REG_MIGRATION_STATUS);
	if (st != avp->mig_seen) {
		avp->mig_seen = st;
		switch (st) {
		case AVP_MIGRATION_DETACHED:
		case AVP_MIGRATION_ERROR:
			avp_on_detach(avp, st);
			break;
		case AVP_MIGRATION_ATTACHED:
			avp_on_attach(avp);
			break;
		default:
			/* NONE or garbage: nothing to act on. */
			break;
		}
	}
	rtnl_unlock();
	if (!avp->ctrl_irq && !READ_ONCE(avp->removing))
		queue_delayed_work(system_power_efficient_wq, &avp->migration_work,
				   msecs_to_jiffies(max(migration_poll_ms, 1U)));
}

/* A device found detached is acknowledged and refused (busy). */
static int
avp_migration_check_at_probe(struct avp_net *avp)
{
	u32 st = avp_reg_read(avp, AVP_REG_MIGRATION_STATUS);

	if (st == AVP_MIGRATION_DETACHED) {
		avp_ack_migration(avp, st);
		return -EBUSY;
	}
	avp->mig_seen = st;
	/* In our region an event is pending while status != ack: settle it. */
	if (avp->profile == AVP_PROFILE_IVSHMEM && avp_reg_read(avp, AVP_REG_MIGRATION_ACK) != st)
		avp_ack_migration(avp, st);
	return 0;
}

/* ---- ethtool ------------------------------------------------------------------ */

static void
avp_get_drvinfo(struct net_device *dev, struct ethtool_drvinfo *info)
{
	struct avp_net *avp = netdev_priv(dev);
	u32 v = avp->info.version;

	strscpy(info->driver, AVP_NET_NAME, sizeof(info->driver));
	strscpy(info->version, AVP_NET_VERSION, sizeof(info->version));
	strscpy(info->bus_info, pci_name(avp->pdev), sizeof(info->bus_info));
	snprintf(info->fw_version, sizeof(info->fw_version), "host %u.%u.%u %s",
		 AVP_VERSION_RELEASE(v), AVP_VERSION_MAJOR(v), AVP_VERSION_MINOR(v),
		 avp->profile == AVP_PROFILE_LEGACY ? "legacy" : "ivshmem");
}

static int
avp_get_link_ksettings(struct net_device *dev, struct ethtool_link_ksettings *cmd)
{
	/* Shared memory has no speed; say so rather than invent one. */
	ethtool_link_ksettings_zero_link_mode(cmd, supported);
	ethtool_link_ksettings_zero_link_mode(cmd, advertising);
	cmd->base.speed = SPEED_UNKNOWN;
	cmd->base.duplex = DUPLEX_FULL;
	cmd->base.port = PORT_OTHER;
	cmd->base.autoneg = AUTONEG_DISABLE;
	return 0;
}

static void
avp_get_ringparam(struct net_device *dev, struct ethtool_ringparam *ring,
		  struct kernel_ethtool_ringparam *kring, struct netlink_ext_ack *extack)
{
	struct avp_net *avp = netdev_priv(dev);
	const struct avp_queue *q = &avp->queues[0];

	/* The host sizes the FIFOs; one slot of each stays unused. */
	ring->rx_max_pending = q->rx.mask;
	ring->rx_pending = q->rx.mask;
	ring->tx_max_pending = q->tx.mask;
	ring->tx_pending = q->tx.mask;
}

static void
avp_get_channels(struct net_device *dev, struct ethtool_channels *ch)
{
	struct avp_net *avp = netdev_priv(dev);

	ch->max_combined = avp->max_queues;
	ch->combined_count = avp->nr_queues;
}

static int
avp_set_channels(struct net_device *dev, struct ethtool_channels *ch)
{
	struct avp_net *avp = netdev_priv(dev);
	unsigned int n = ch->combined_count;
	bool running = avp->datapath_up;
	int ret = 0;

	if (ch->rx_count || ch->tx_count || ch->other_count || !n || n > avp->max_queues)
		return -EINVAL;
	if (n == avp->nr_queues)
		return 0;
	avp_datapath_stop(avp);
	netif_set_real_num_tx_queues(dev, n);
	netif_set_real_num_rx_queues(dev, n);
	avp->nr_queues = n;
	if (running)
		ret = avp_datapath_start(avp);
	return ret;
}

static int
avp_get_sset_count(struct net_device *dev, int sset)
{
	struct avp_net *avp = netdev_priv(dev);

	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return (AVP_RQ_STATS_LEN + AVP_SQ_STATS_LEN) * (1 + avp->nr_queues) + AVP_DEV_STATS_LEN;
}

static void
avp_get_strings(struct net_device *dev, u32 sset, u8 *p)
{
	struct avp_net *avp = netdev_priv(dev);
	unsigned int q;
	size_t i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < AVP_RQ_STATS_LEN; i++)
		ethtool_sprintf(&p, "rx_%s", avp_rq_stats_desc[i].name);
	for (i = 0; i < AVP_SQ_STATS_LEN; i++)
		ethtool_sprintf(&p, "tx_%s", avp_sq_stats_desc[i].name);
	for (i = 0; i < AVP_DEV_STATS_LEN; i++)
		ethtool_sprintf(&p, "%s", avp_dev_stats_names[i]);
	for (q = 0; q < avp->nr_queues; q++) {
		for (i = 0; i < AVP_RQ_STATS_LEN; i++)
			ethtool_sprintf(&p, "rx_q%u_%s", q, avp_rq_stats_desc[i].name);
		for (i = 0; i < AVP_SQ_STATS_LEN; i++)
			ethtool_sprintf(&p, "tx_q%u_%s", q, avp_sq_stats_desc[i].name);
	}
}

/* Snapshot of one queue's counters, consistent per queue. */
static void
avp_queue_stats(const struct avp_queue *q, u64 *rx, u64 *tx)
{
	unsigned int start;
	size_t i;

	do {
		start = u64_stats_fetch_begin(&q->rx_stats.syncp);
		for (i = 0; i < AVP_RQ_STATS_LEN; i++)
			rx[i] = u64_stats_read((const u64_stats_t *)((const u8 *)&q->rx_stats +
								     avp_rq_stats_desc[i].offset));
	} while (u64_stats_fetch_retry(&q->rx_stats.syncp, start));
	do {
		start = u64_stats_fetch_begin(&q->tx_stats.syncp);
		for (i = 0; i < AVP_SQ_STATS_LEN; i++)
			tx[i] = u64_stats_read((const u64_stats_t *)((const u8 *)&q->tx_stats +
								     avp_sq_stats_desc[i].offset));
	} while (u64_stats_fetch_retry(&q->tx_stats.syncp, start));
}

static void
avp_get_ethtool_stats(struct net_device *dev, struct ethtool_stats *stats, u64 *data)
{
	struct avp_net *avp = netdev_priv(dev);
	u64 *rx_total = data, *tx_total = data + AVP_RQ_STATS_LEN;
	u64 *devs = tx_total + AVP_SQ_STATS_LEN;
	u64 *per_queue = devs + AVP_DEV_STATS_LEN;
	unsigned int q;
	size_t i;

	memset(data, 0, sizeof(u64) * (AVP_RQ_STATS_LEN + AVP_SQ_STATS_LEN));
	for (q = 0; q < avp->nr_queues; q++) {
		u64 *rx = per_queue, *tx = per_queue + AVP_RQ_STATS_LEN;

		avp_queue_stats(&avp->queues[q], rx, tx);
		for (i = 0; i < AVP_RQ_STATS_LEN; i++)
			rx_total[i] += rx[i];
		for (i = 0; i < AVP_SQ_STATS_LEN; i++)
			tx_total[i] += tx[i];
		per_queue += AVP_RQ_STATS_LEN + AVP_SQ_STATS_LEN;
	}
	mutex_lock(&avp->ctrl.lock);
	devs[0] = avp->ctrl.requests;
	devs[1] = avp->ctrl.timeouts;
	devs[2] = avp->ctrl.errors;
	devs[9] = avp->ctrl.rings;
	mutex_unlock(&avp->ctrl.lock);
	/* Migration counters change under RTNL, which ethtool holds. */
	devs[3] = avp->mig_detach;
	devs[4] = avp->mig_attach;
	devs[5] = avp->mig_errors;
	devs[6] = avp->mig_checks;
	devs[7] = READ_ONCE(avp->ctrl_irq_count);
	devs[8] = 0;
	for (q = 0; q < avp->max_queues; q++)
		devs[8] += READ_ONCE(avp->queues[q].irq_count);
}

static const struct ethtool_ops avp_ethtool_ops = {
	.get_drvinfo = avp_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_link_ksettings = avp_get_link_ksettings,
	.get_ringparam = avp_get_ringparam,
	.get_channels = avp_get_channels,
	.set_channels = avp_set_channels,
	.get_sset_count = avp_get_sset_count,
	.get_strings = avp_get_strings,
	.get_ethtool_stats = avp_get_ethtool_stats,
};

/* ---- netdev ops ------------------------------------------------------------------ */

static int
avp_change_mtu(struct net_device *dev, int new_mtu)
{
	struct avp_net *avp = netdev_priv(dev);
	int ret;

	/* While detached the MTU is sent with the configuration at attach. */
	if (avp->attached) {
		ret = avp_ctrl_set_mtu(avp, new_mtu);
		if (ret)
			return ret;
	}
	dev->mtu = new_mtu;
	avp_update_frame_limits(avp);
	return 0;
}

static void
avp_get_stats64(struct net_device *dev, struct rtnl_link_stats64 *tot)
{
	struct avp_net *avp = netdev_priv(dev);
	u64 rx[AVP_RQ_STATS_LEN], tx[AVP_SQ_STATS_LEN];
	unsigned int q;

	for (q = 0; q < avp->max_queues; q++) {
		avp_queue_stats(&avp->queues[q], rx, tx);
		tot->rx_packets += rx[0];
		tot->rx_bytes += rx[1];
		/* bad address, length, chain, index */
		tot->rx_errors += rx[2] + rx[3] + rx[4] + rx[5];
		tot->rx_dropped += rx[6];
		tot->tx_packets += tx[0];
		tot->tx_bytes += tx[1];
		/* oversize, bad skb */
		tot->tx_errors += tx[2] + tx[3];
		tot->tx_dropped += tx[4];
	}
}

static const struct net_device_ops avp_netdev_ops = {
	.ndo_open = avp_open,
	.ndo_stop = avp_close,
	.ndo_start_xmit = avp_start_xmit,
	.ndo_features_check = avp_features_check,
	.ndo_change_mtu = avp_change_mtu,
	.ndo_get_stats64 = avp_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

/* ---- probe and remove --------------------------------------------------------- */

static int
avp_map_ivshmem(struct avp_net *avp, const char **why)
{
	struct pci_dev *pdev = avp->pdev;
	resource_size_t len = pci_resource_len(pdev, AVP_BAR_MEMORY);

	if (!(pci_resource_flags(pdev, AVP_BAR_MEMORY) & IORESOURCE_MEM) || !len) {
		*why = "no shared memory BAR";
		return -ENODEV;
	}
	/* Plain RAM on the host's side, coherent with its CPUs: map it as memory. */
	avp->bar2 = memremap(pci_resource_start(pdev, AVP_BAR_MEMORY), len, MEMREMAP_WB);
	if (!avp->bar2) {
		*why = "cannot map the shared memory BAR";
		return -ENOMEM;
	}
	return avp_region_parse(avp->bar2, len, &avp->blocks, why);
}

static int
avp_map_legacy(struct avp_net *avp, const char **why)
{
	struct pci_dev *pdev = avp->pdev;
	static const int mem_bars[] = {AVP_BAR_MEMORY, AVP_BAR_MEMMAP, AVP_BAR_DEVICE};
	void **maps[] = {&avp->bar2, &avp->bar4, &avp->bar5};
	size_t i;

	if (pci_resource_len(pdev, AVP_BAR_MMIO) < AVP_REG_BLOCK_SIZE) {
		*why = "register BAR too small";
		return -ENODEV;
	}
	avp->bar0 = pci_iomap(pdev, AVP_BAR_MMIO, AVP_REG_BLOCK_SIZE);
	if (!avp->bar0) {
		*why = "cannot map the register BAR";
		return -ENOMEM;
	}
	for (i = 0; i < ARRAY_SIZE(mem_bars); i++) {
		int bar = mem_bars[i];

		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
		    !pci_resource_len(pdev, bar)) {
			*why = "a memory BAR is missing";
			return -ENODEV;
		}
		*maps[i] = memremap(pci_resource_start(pdev, bar), pci_resource_len(pdev, bar),
				    MEMREMAP_WB);
		if (!*maps[i]) {
			*why = "cannot map a memory BAR";
			return -ENOMEM;
		}
	}
	avp->blocks.mmio_regs = avp->bar0;
	avp->blocks.data = avp->bar2;
	avp->blocks.data_size = pci_resource_len(pdev, AVP_BAR_MEMORY);
	avp->blocks.memmap = avp->bar4;
	avp->blocks.memmap_size = pci_resource_len(pdev, AVP_BAR_MEMMAP);
	avp->blocks.info = avp->bar5;
	avp->blocks.info_size = pci_resource_len(pdev, AVP_BAR_DEVICE);
	return 0;
}

static void
avp_unmap(struct avp_net *avp)
{
	if (avp->bar5)
		memunmap(avp->bar5);
	if (avp->bar4)
		memunmap(avp->bar4);
	if (avp->bar2)
		memunmap(avp->bar2);
	if (avp->bar0)
		pci_iounmap(avp->pdev, avp->bar0);
	avp->bar0 = NULL;
	avp->bar2 = NULL;
	avp->bar4 = NULL;
	avp->bar5 = NULL;
}

static void
avp_free_irqs(struct avp_net *avp)
{
	unsigned int q;

	for (q = 0; q < avp->max_queues; q++) {
		struct avp_queue *aq = &avp->queues[q];

		if (aq->irq)
			free_irq(aq->irq, aq);
		aq->irq = 0;
		aq->irq_line = NULL;
	}
	if (avp->ctrl_irq) {
		if (avp->profile == AVP_PROFILE_LEGACY)
			avp_reg_write(avp, AVP_REG_INTERRUPT_MASK, AVP_INTERRUPTS_NONE);
		free_irq(avp->ctrl_irq, avp);
		avp->ctrl_irq = 0;
	}
	if (avp->ivshmem_regs) {
		/* The host must not sleep on a guest that no longer rings. */
		WRITE_ONCE(avp->wake_area->guest_rings, 0);
		pci_iounmap(avp->pdev, avp->ivshmem_regs);
		avp->ivshmem_regs = NULL;
	}
	if (avp->nvec)
		pci_free_irq_vectors(avp->pdev);
	avp->nvec = 0;
}

/*
 * A host that offers to sleep until rung gets rung: ivshmem's BAR0 holds
 * the Doorbell register. Without it (or without vectors, as on
 * ivshmem-plain, whose QEMU knows no peers) the host keeps polling us.
 */
static void
avp_setup_host_wake(struct avp_net *avp)
{
	struct avp_irq_area *irq = avp->blocks.irq;

	if (avp->profile != AVP_PROFILE_IVSHMEM || !irq || READ_ONCE(irq->wake_offered) != 1)
		return;
	avp->ivshmem_regs = pci_iomap(avp->pdev, 0, AVP_IVSHMEM_DOORBELL_REG + 4);
	if (!avp->ivshmem_regs) {
		dev_info(&avp->pdev->dev, "cannot map the doorbell: the host keeps polling\n");
		return;
	}
	avp->wake_area = irq;
	avp->wake_doorbell = READ_ONCE(irq->wake_doorbell);
	avp->ctrl_doorbell = READ_ONCE(irq->ctrl_doorbell);
}

/*
 * MSI-X where the device has it: vector 0 for migration (and control
 * answers on doorbell), 1 + q for queue q as far as the host signals them.
 * Anything missing is polled instead, so failures here are not fatal.
 */
static void
avp_setup_irqs(struct avp_net *avp)
{
	struct pci_dev *pdev = avp->pdev;
	int want, n, ret;
	unsigned int q;

	if (!use_msix || pci_msix_vec_count(pdev) <= 0)
		return;
	if (avp->profile == AVP_PROFILE_LEGACY)
		want = 1;
	else if (avp->blocks.irq)
		want = min_t(int, READ_ONCE(avp->blocks.irq->nb_vectors), 1 + avp->max_queues);
	else
		return;
	want = min(want, pci_msix_vec_count(pdev));
	n = pci_alloc_irq_vectors(pdev, 1, want, PCI_IRQ_MSIX);
	if (n < 0) {
		dev_info(&pdev->dev, "no MSI-X vectors (%d): polling\n", n);
		return;
	}
	avp->nvec = n;
	pci_set_master(pdev);
	snprintf(avp->ctrl_irq_name, sizeof(avp->ctrl_irq_name), "%s-ctrl", pci_name(pdev));
	ret = request_irq(pci_irq_vector(pdev, 0), avp_ctrl_interrupt, 0, avp->ctrl_irq_name, avp);
	if (ret) {
		dev_info(&pdev->dev, "cannot take vector 0 (%d): polling\n", ret);
		avp_free_irqs(avp);
		return;
	}
	avp->ctrl_irq = pci_irq_vector(pdev, 0);
	if (avp->profile == AVP_PROFILE_LEGACY)
		avp_reg_write(avp, AVP_REG_INTERRUPT_MASK, AVP_INTERRUPTS_ALL);
	for (q = 0; q + 1 < (unsigned int)n && q < avp->max_queues; q++) {
		struct avp_queue *aq = &avp->queues[q];
		int irq = pci_irq_vector(pdev, 1 + q);

		snprintf(aq->irq_name, sizeof(aq->irq_name), "%s-q%u", pci_name(pdev), q);
		if (request_irq(irq, avp_queue_interrupt, 0, aq->irq_name, aq))
			break;
		aq->irq = irq;
		aq->irq_line = &avp->blocks.irq->queue[q];
	}
	avp_setup_host_wake(avp);
	dev_info(&pdev->dev, "%d MSI-X vectors, %u queues interrupt-driven%s\n", n, q,
		 avp->ivshmem_regs ? ", host rung when it sleeps" : "");
}

static void
avp_setup_netdev(struct avp_net *avp)
{
	struct net_device *dev = avp->netdev;
	unsigned int q;

	dev->netdev_ops = &avp_netdev_ops;
	dev->ethtool_ops = &avp_ethtool_ops;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	/* Every frame is copied by the CPU: gather costs nothing extra, the
	 * checksums are summed during the copies, and the stack need not
	 * linearise or read the bytes again to check them. TSO: a stream's
	 * 64 KiB skbs are cut into frames during that same copy (avp_tso.c),
	 * sparing the stack one skb per frame; the wire still carries
	 * frames of at most the MTU.
	 */
	dev->hw_features =
		NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | NETIF_F_TSO | NETIF_F_TSO6;
	dev->features = dev->hw_features | NETIF_F_HIGHDMA;
	if (avp->vlan_offload)
		dev->features |= NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_CTAG_RX;
	dev->vlan_features = dev->hw_features;
	dev->min_mtu = ETH_MIN_MTU;
	dev->max_mtu = avp->max_frame - AVP_FRAME_OVERHEAD;
	netif_set_tso_max_segs(dev, AVP_TSO_MAX_FRAMES);
	netif_set_tso_max_size(dev, TSO_LEGACY_MAX_SIZE);
	dev->mtu = min_t(unsigned int, ETH_DATA_LEN, dev->max_mtu);
	if (is_valid_ether_addr(avp->info.ethaddr))
		eth_hw_addr_set(dev, avp->info.ethaddr);
	else
		eth_hw_addr_random(dev);
	for (q = 0; q < avp->max_queues; q++) {
		struct avp_queue *aq = &avp->queues[q];

		aq->avp = avp;
		aq->index = q;
		u64_stats_init(&aq->rx_stats.syncp);
		u64_stats_init(&aq->tx_stats.syncp);
		netif_napi_add(dev, &aq->napi, avp_poll);
#ifdef AVP_HAVE_HRTIMER_SETUP
		hrtimer_setup(&aq->poll_timer, avp_poll_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
#else
		hrtimer_init(&aq->poll_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
		aq->poll_timer.function = avp_poll_timer;
#endif
	}
	avp_update_frame_limits(avp);
}

static int
avp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	const char *why = "";
	struct net_device *dev;
	struct avp_net *avp;
	unsigned int q;
	int ret;

	dev = alloc_etherdev_mqs(sizeof(*avp), AVP_MAX_QUEUES, AVP_MAX_QUEUES);
	if (!dev)
		return -ENOMEM;
	SET_NETDEV_DEV(dev, &pdev->dev);
	avp = netdev_priv(dev);
	avp->netdev = dev;
	avp->pdev = pdev;
	avp->profile = id->driver_data;
	mutex_init(&avp->ctrl.lock);
	init_waitqueue_head(&avp->ctrl.wait);
	INIT_DELAYED_WORK(&avp->migration_work, avp_migration_work);
	pci_set_drvdata(pdev, avp);

	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto err_free_netdev;
	ret = pci_request_regions(pdev, AVP_NET_NAME);
	if (ret)
		goto err_disable;
	if (avp->profile == AVP_PROFILE_LEGACY)
		ret = avp_map_legacy(avp, &why);
	else
		ret = avp_map_ivshmem(avp, &why);
	if (ret == -ENODEV && avp->profile == AVP_PROFILE_IVSHMEM) {
		/* Plain ivshmem used for something else: leave it alone. */
		dev_info(&pdev->dev, "not an AVP device (%s)\n", why);
		goto err_unmap;
	}
	if (ret)
		goto err_refused;
	ret = avp_migration_check_at_probe(avp);
	if (ret) {
		why = "detached by the host";
		goto err_refused;
	}
	/* The queue array is sized by what the host offers now. */
	ret = avp_info_load(&avp->blocks, &avp->info, AVP_GUEST_VERSION, &why);
	if (ret)
		goto err_refused;
	avp->max_queues = min(avp->info.max_rx_queues, avp->info.max_tx_queues);
	avp->queues = kcalloc(avp->max_queues, sizeof(*avp->queues), GFP_KERNEL);
	if (!avp->queues) {
		ret = -ENOMEM;
		goto err_refused;
	}
	ret = avp_attach(avp, &why);
	if (ret)
		goto err_queues;
	avp->nr_queues = min(queues ? queues : num_online_cpus(), avp->max_queues);
	netif_set_real_num_tx_queues(dev, avp->nr_queues);
	netif_set_real_num_rx_queues(dev, avp->nr_queues);
	avp->attached = true;
	avp_setup_netdev(avp);
	avp_setup_irqs(avp);

	netif_carrier_off(dev);
	ret = register_netdev(dev);
	if (ret)
		goto err_irqs;
	queue_delayed_work(system_power_efficient_wq, &avp->migration_work,
			   msecs_to_jiffies(max(migration_poll_ms, 1U)));
	netdev_info(dev, "AVP %s profile at %s: host %s, %u of %u queue pairs, device id 0x%llx\n",
		    avp->profile == AVP_PROFILE_LEGACY ? "legacy PCI" : "ivshmem PCI",
		    pci_name(pdev), avp->info.ifname, avp->nr_queues, avp->max_queues,
		    avp->info.device_id);
	return 0;

err_irqs:
	avp_free_irqs(avp);
	for (q = 0; q < avp->max_queues; q++)
		netif_napi_del(&avp->queues[q].napi);
	avp_xlate_free(&avp->xlate);
err_queues:
	kfree(avp->queues);
err_refused:
	dev_err(&pdev->dev, "AVP device refused: %s (%d)\n", why, ret);
err_unmap:
	avp_unmap(avp);
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_free_netdev:
	free_netdev(dev);
	return ret;
}

static void
avp_remove(struct pci_dev *pdev)
{
	struct avp_net *avp = pci_get_drvdata(pdev);
	struct net_device *dev = avp->netdev;
	unsigned int q;

	/* No vector 0 kick and no re-arm after the watcher is cancelled. */
	WRITE_ONCE(avp->removing, true);
	if (avp->ctrl_irq) {
		if (avp->profile == AVP_PROFILE_LEGACY)
			avp_reg_write(avp, AVP_REG_INTERRUPT_MASK, AVP_INTERRUPTS_NONE);
		free_irq(avp->ctrl_irq, avp);
		avp->ctrl_irq = 0;
	}
	cancel_delayed_work_sync(&avp->migration_work);
	unregister_netdev(dev);
	if (avp->attached)
		avp_ctrl_shutdown(avp, ctrl_timeout_ms);
	avp_free_irqs(avp);
	for (q = 0; q < avp->max_queues; q++)
		netif_napi_del(&avp->queues[q].napi);
	kfree(avp->queues);
	avp_xlate_free(&avp->xlate);
	avp_unmap(avp);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	free_netdev(dev);
}

/* The subsystem device id is what tells an AVP from other ivshmem users. */
static const struct pci_device_id avp_pci_ids[] = {
	{PCI_DEVICE_SUB(AVP_PCI_VENDOR_ID, AVP_PCI_DEVICE_ID, AVP_PCI_SUB_VENDOR_ID,
			AVP_PCI_SUB_DEVICE_ID),
	 .driver_data = AVP_PROFILE_LEGACY},
	{PCI_DEVICE_SUB(AVP_PCI_VENDOR_ID, AVP_PCI_DEVICE_ID, AVP_PCI_SUB_VENDOR_ID,
			AVP_PCI_SUB_DEVICE_IVSHMEM),
	 .driver_data = AVP_PROFILE_IVSHMEM},
	{}};
MODULE_DEVICE_TABLE(pci, avp_pci_ids);

static struct pci_driver avp_pci_driver = {
	.name = AVP_NET_NAME,
	.id_table = avp_pci_ids,
	.probe = avp_probe,
	.remove = avp_remove,
};

module_pci_driver(avp_pci_driver);

MODULE_DESCRIPTION("AVP shared-memory virtual NIC (legacy PCI and ivshmem profiles)");
MODULE_LICENSE("GPL");
MODULE_VERSION(AVP_NET_VERSION);
