/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control channel: a request written into the sync area, its host address put
 * on the req FIFO, the same address coming back on resp when the host is done.
 */
#ifndef GSDK_AVP_CTRL_H
#define GSDK_AVP_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "avp_model.h"

struct avp_ctrl_stats {
	uint64_t requests;
	uint64_t timeouts;
	uint64_t errors; /* host answered with an error or a wrong address */
};

struct avp_ctrl {
	struct avp_ring req;
	struct avp_ring resp;
	volatile struct avp_request *sync; /* guest view of the sync area */
	uint64_t sync_va;		   /* what travels on req/resp */
	unsigned int timeout_ms;
	struct avp_ctrl_stats st;
};

/* The original PMD waited 500 ms for an answer. */
#define AVP_CTRL_TIMEOUT_MS 500

int avp_ctrl_bind(struct avp_ctrl *c, const struct avp_xlate *x, const struct avp_device_info *info,
		  const char **why);

/*
 * Sends one request and waits for the answer. Returns the host's result
 * (0 or negative errno), -ETIMEDOUT or -EPROTO. The caller serialises calls.
 */
int avp_ctrl_request(struct avp_ctrl *c, struct avp_request *req);

int avp_ctrl_set_mtu(struct avp_ctrl *c, uint32_t mtu);
int avp_ctrl_if_up(struct avp_ctrl *c, int up);
int avp_ctrl_configure(struct avp_ctrl *c, const struct avp_device_config *cfg);
int avp_ctrl_shutdown(struct avp_ctrl *c);

#endif /* GSDK_AVP_CTRL_H */
