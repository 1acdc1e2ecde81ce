/* SPDX-License-Identifier: BSD-3-Clause */
/* Stats and xstats ethdev ops (avp_stats.c). */
#ifndef GSDK_AVP_STATS_H
#define GSDK_AVP_STATS_H

#include <ethdev_driver.h>

int avp_stats_get(struct rte_eth_dev *eth, struct rte_eth_stats *st);
int avp_stats_reset(struct rte_eth_dev *eth);
int avp_xstats_get(struct rte_eth_dev *eth, struct rte_eth_xstat *xs, unsigned int n);
int avp_xstats_get_names(struct rte_eth_dev *eth, struct rte_eth_xstat_name *names, unsigned int n);
int avp_xstats_reset(struct rte_eth_dev *eth);

#endif /* GSDK_AVP_STATS_H */
