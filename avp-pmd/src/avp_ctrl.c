/* SPDX-License-Identifier: BSD-3-Clause */
/* Control requests over the req/resp FIFOs (see avp_ctrl.h). */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <rte_avp_common.h>
#include <rte_cycles.h>

#include "avp_ctrl.h"
#include "avp_log.h"

/* Our header and DPDK's must agree on the legacy request: result at 32 of 36. */
_Static_assert(offsetof(struct rte_avp_request, result) == offsetof(struct avp_request, result),
	       "request result offset");
_Static_assert(sizeof(struct rte_avp_request) == sizeof(struct avp_request), "request size");

static const char *const request_names[AVP_REQ_MAX] = {
	[AVP_REQ_UNKNOWN] = "unknown",
	[AVP_REQ_CHANGE_MTU] = "change-mtu",
	[AVP_REQ_CFG_NETWORK_IF] = "cfg-network-if",
	[AVP_REQ_CFG_DEVICE] = "cfg-device",
	[AVP_REQ_SHUTDOWN] = "shutdown",
};

int
avp_ctrl_bind(struct avp_ctrl *c, const struct avp_xlate *x, const struct avp_device_info *info,
	      const char **why)
{
	unsigned int timeout = c->timeout_ms ? c->timeout_ms : AVP_CTRL_TIMEOUT_MS;
	struct avp_ctrl_stats st = c->st; /* counters survive a re-bind */
	int ret;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = timeout;
	c->st = st;
	ret = avp_ring_bind(&c->req, x, info->req_phys, 0, 0, true, why);
	if (ret)
		return ret;
	ret = avp_ring_bind(&c->resp, x, info->resp_phys, 0, 0, false, why);
	if (ret)
		return ret;
	c->sync = avp_phys_to_guest(x, info->sync_phys, sizeof(struct avp_request));
	if (c->sync == NULL) {
		*why = "sync area outside the shared memory";
		return -EINVAL;
	}
	c->sync_va = info->sync_va;
	return 0;
}

static void
nap(void)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000};

	nanosleep(&ts, NULL);
}

int
avp_ctrl_request(struct avp_ctrl *c, struct avp_request *req)
{
	const char *name = req->req_id < AVP_REQ_MAX ? request_names[req->req_id] : "?";
	uint64_t stale, answer = 0;
	uint64_t deadline;
	int32_t result;

	if (c->sync == NULL)
		return -ENODEV;
	c->st.requests++;
	/* An answer that arrived after an earlier timeout is not this one's. */
	while (avp_ring_get(&c->resp, &stale, 1) == 1)
		AVP_CTRL_LOG(DEBUG, "dropping a late answer");

	/* A host that answers without writing a result has not done the work. */
	req->result = -EIO;
	memcpy((void *)c->sync, req, sizeof(*req));
	if (avp_ring_put(&c->req, &c->sync_va, 1) != 1) {
		c->st.errors++;
		AVP_CTRL_LOG(ERR, "%s: request FIFO full", name);
		return -ENOSPC;
	}

	deadline = rte_get_timer_cycles() + rte_get_timer_hz() * c->timeout_ms / 1000;
	while (avp_ring_get(&c->resp, &answer, 1) == 0) {
		if (rte_get_timer_cycles() > deadline) {
			c->st.timeouts++;
			AVP_CTRL_LOG(ERR, "%s: no answer from the host in %u ms", name,
				     c->timeout_ms);
			return -ETIMEDOUT;
		}
		nap();
	}
	if (answer != c->sync_va) {
		c->st.errors++;
		AVP_CTRL_LOG(ERR,
			     "%s: host answered with address 0x%" PRIx64 " instead of 0x%" PRIx64,
			     name, answer, c->sync_va);
		return -EPROTO;
	}
	memcpy(&result, (const void *)&c->sync->result, sizeof(result));
	if (result > 0 || result < -4095) {
		c->st.errors++;
		AVP_CTRL_LOG(ERR, "%s: host returned nonsense result %d", name, result);
		return -EPROTO;
	}
	if (result != 0) {
		c->st.errors++;
		AVP_CTRL_LOG(ERR, "%s: host refused: %s", name, strerror(-result));
	} else {
		AVP_CTRL_LOG(DEBUG, "%s: done", name);
	}
	return result;
}

int
avp_ctrl_set_mtu(struct avp_ctrl *c, uint32_t mtu)
{
	struct avp_request r = {.req_id = AVP_REQ_CHANGE_MTU};

	r.new_mtu = mtu;
	return avp_ctrl_request(c, &r);
}

int
avp_ctrl_if_up(struct avp_ctrl *c, int up)
{
	struct avp_request r = {.req_id = AVP_REQ_CFG_NETWORK_IF};

	r.if_up = up ? 1 : 0;
	return avp_ctrl_request(c, &r);
}

int
avp_ctrl_configure(struct avp_ctrl *c, const struct avp_device_config *cfg)
{
	struct avp_request r = {.req_id = AVP_REQ_CFG_DEVICE};

	memcpy(&r.config, cfg, sizeof(*cfg));
	return avp_ctrl_request(c, &r);
}

int
avp_ctrl_shutdown(struct avp_ctrl *c)
{
	struct avp_request r = {.req_id = AVP_REQ_SHUTDOWN};

	return avp_ctrl_request(c, &r);
}
