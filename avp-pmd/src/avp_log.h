/* SPDX-License-Identifier: BSD-3-Clause */
/* Registered log types: pmd.net.gsdk_avp.{driver,init,ctrl,rx,tx}. */
#ifndef GSDK_AVP_LOG_H
#define GSDK_AVP_LOG_H

#include <rte_log.h>

extern int avp_logtype_driver;
extern int avp_logtype_init;
extern int avp_logtype_ctrl;
extern int avp_logtype_rx;
extern int avp_logtype_tx;

#define AVP_LOG(level, type, fmt, ...)                                                             \
	rte_log(RTE_LOG_##level, avp_logtype_##type, "gsdk_avp: %s(): " fmt "\n", __func__,        \
		##__VA_ARGS__)

#define AVP_DRV_LOG(level, fmt, ...)  AVP_LOG(level, driver, fmt, ##__VA_ARGS__)
#define AVP_INIT_LOG(level, fmt, ...) AVP_LOG(level, init, fmt, ##__VA_ARGS__)
#define AVP_CTRL_LOG(level, fmt, ...) AVP_LOG(level, ctrl, fmt, ##__VA_ARGS__)

/* Per-packet logs cost a branch per packet: only debug builds keep them. */
#ifdef GSDK_AVP_DEBUG_DATAPATH
#define AVP_RX_LOG(level, fmt, ...) AVP_LOG(level, rx, fmt, ##__VA_ARGS__)
#define AVP_TX_LOG(level, fmt, ...) AVP_LOG(level, tx, fmt, ##__VA_ARGS__)
#else
#define AVP_RX_LOG(level, fmt, ...)                                                                \
	do {                                                                                       \
	} while (0)
#define AVP_TX_LOG(level, fmt, ...)                                                                \
	do {                                                                                       \
	} while (0)
#endif

#endif /* GSDK_AVP_LOG_H */
