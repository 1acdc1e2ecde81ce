/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live migration: the host detaches the device (the rings go away), then
 * attaches it again, possibly at other host addresses. We watch the migration
 * status register with an EAL alarm: ivshmem-plain and the file profile have
 * no interrupt, and polling one word every few milliseconds is cheap enough
 * that the legacy layout uses the same path.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_pause.h>

#include "avp_dev.h"
#include "avp_log.h"

#define AVP_MIGRATION_POLL_US 10000
/* A detached host may never answer; do not hold the port for long. */
#define AVP_DETACH_SHUTDOWN_TIMEOUT_MS 100

static uint32_t
reg_read(const struct avp_dev *avp, unsigned int off)
{
	return __atomic_load_n(&avp->blocks.regs[off / 4], __ATOMIC_ACQUIRE);
}

static void
reg_write(struct avp_dev *avp, unsigned int off, uint32_t v)
{
	__atomic_store_n(&avp->blocks.regs[off / 4], v, __ATOMIC_RELEASE);
}

static void
ack(struct avp_dev *avp, uint32_t state)
{
	avp->acked = state;
	reg_write(avp, AVP_REG_MIGRATION_ACK, state);
}

int
avp_migration_check_at_probe(struct avp_dev *avp)
{
	uint32_t st;

	if (avp->blocks.regs == NULL)
		return 0;
	st = reg_read(avp, AVP_REG_MIGRATION_STATUS);
	if (st == AVP_MIGRATION_DETACHED) {
		ack(avp, st);
		return -EBUSY;
	}
	avp->acked = st;
	avp->seen = st;
	/* In our region an event is pending while status != ack: settle it. */
	if (avp->profile != AVP_PROFILE_LEGACY && reg_read(avp, AVP_REG_MIGRATION_ACK) != st)
		ack(avp, st);
	return 0;
}

bool avp_burst_fence = true;

static int
membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/* Called once per device probe; registering twice is harmless. */
void
avp_burst_fence_init(void)
{
	int cmds = membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
		__atomic_store_n(&avp_burst_fence, false, __ATOMIC_SEQ_CST);
		return;
	}
	AVP_DRV_LOG(INFO, "membarrier unavailable: every burst pays a fence");
}

/* Waits until no burst is inside the rings; callers cleared avp->attached first. */
void
avp_quiesce(struct avp_dev *avp)
{
	struct rte_eth_dev_data *d = avp->eth->data;
	uint16_t i;

	/* Every lcore now either shows busy or will see attached == 0. */
	if (!__atomic_load_n(&avp_burst_fence, __ATOMIC_SEQ_CST) &&
	    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
		/* Fence every burst from now on; a store buffer drains in far
		 * less than the wait below. */
		AVP_DRV_LOG(ERR, "membarrier failed: %s", strerror(errno));
		__atomic_store_n(&avp_burst_fence, true, __ATOMIC_SEQ_CST);
		rte_delay_us_sleep(1000);
	}

	for (i = 0; i < d->nb_rx_queues; i++) {
		struct avp_rxq *q = d->rx_queues[i];

		while (q != NULL && __atomic_load_n(&q->busy, __ATOMIC_ACQUIRE))
			rte_pause();
	}
	for (i = 0; i < d->nb_tx_queues; i++) {
		struct avp_txq *q = d->tx_queues[i];

		while (q != NULL && __atomic_load_n(&q->busy, __ATOMIC_ACQUIRE))
			rte_pause();
	}
}

static void
on_detach(struct avp_dev *avp, uint32_t st)
{
	unsigned int t = avp->ctrl.timeout_ms;

	__atomic_store_n(&avp->attached, 0, __ATOMIC_SEQ_CST);
	avp_quiesce(avp);
	if (avp->started && st == AVP_MIGRATION_DETACHED) {
		avp->ctrl.timeout_ms = AVP_DETACH_SHUTDOWN_TIMEOUT_MS;
		(void)avp_ctrl_shutdown(&avp->ctrl);
		avp->ctrl.timeout_ms = t;
	}
	ack(avp, st);
	avp_set_link(avp, false, true);
	if (st == AVP_MIGRATION_DETACHED) {
		avp->mig.detach++;
		AVP_DRV_LOG(NOTICE, "%s: detached by the host", avp->name);
	} else {
		avp->mig.errors++;
		AVP_DRV_LOG(ERR, "%s: host reports a migration error", avp->name);
	}
}

static void
on_attach(struct avp_dev *avp)
{
	const char *why = "";
	int ret;

	__atomic_store_n(&avp->attached, 0, __ATOMIC_SEQ_CST);
	avp_quiesce(avp);
	ret = avp_attach(avp, &why);
	if (ret) {
		avp->mig.errors++;
		ack(avp, AVP_MIGRATION_ERROR);
		AVP_DRV_LOG(ERR, "%s: re-attach failed: %s (%s)", avp->name, why, strerror(-ret));
		return;
	}
	avp->mig.attach++;
	ack(avp, AVP_MIGRATION_ATTACHED);
	avp_set_link(avp, avp->started && avp->if_up, true);
	AVP_DRV_LOG(NOTICE, "%s: attached again (device id 0x%" PRIx64 ")", avp->name,
		    avp->info.device_id);
}

static void
poll_once(void *arg)
{
	struct avp_dev *avp = arg;
	uint32_t st;

	if (pthread_mutex_trylock(&avp->lock) == 0) {
		st = reg_read(avp, AVP_REG_MIGRATION_STATUS);
		/* Act once per status change: a failed attach is not retried in a loop. */
		if (st != avp->seen) {
			avp->seen = st;
			switch (st) {
			case AVP_MIGRATION_DETACHED:
			case AVP_MIGRATION_ERROR:
				on_detach(avp, st);
				break;
			case AVP_MIGRATION_ATTACHED:
				on_attach(avp);
				break;
			default:
				/* NONE or garbage: nothing to act on. */
				break;
			}
		}
		pthread_mutex_unlock(&avp->lock);
	}
	if (__atomic_load_n(&avp->poll_armed, __ATOMIC_ACQUIRE))
		rte_eal_alarm_set(AVP_MIGRATION_POLL_US, poll_once, avp);
}

void
avp_migration_poll_start(struct avp_dev *avp)
{
	if (avp->blocks.regs == NULL || avp->poll_armed)
		return;
	__atomic_store_n(&avp->poll_armed, true, __ATOMIC_RELEASE);
	rte_eal_alarm_set(AVP_MIGRATION_POLL_US, poll_once, avp);
}

void
avp_migration_poll_stop(struct avp_dev *avp)
{
	if (!avp->poll_armed)
		return;
	__atomic_store_n(&avp->poll_armed, false, __ATOMIC_RELEASE);
	/* Waits for a callback in flight, which then does not re-arm. */
	rte_eal_alarm_cancel(poll_once, avp);
}
