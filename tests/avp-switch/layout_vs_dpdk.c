/* The device-model header states the legacy layout itself; DPDK's public
 * rte_avp_common.h states it too. Any disagreement fails the build here. */
#include <stddef.h>
#include <stdio.h>

#include <rte_avp_common.h>

#include <avp/avp_device.h>

#define SAME_SIZE(ours, theirs) _Static_assert(sizeof(struct ours) == sizeof(struct theirs), #ours " size")
#define SAME_AT(ours, theirs, f1, f2) \
    _Static_assert(offsetof(struct ours, f1) == offsetof(struct theirs, f2), #ours "." #f1)

SAME_SIZE(avp_device_info, rte_avp_device_info);
SAME_AT(avp_device_info, rte_avp_device_info, tx_phys, tx_phys);
SAME_AT(avp_device_info, rte_avp_device_info, features, features);
SAME_AT(avp_device_info, rte_avp_device_info, max_tx_queues, max_tx_queues);
SAME_AT(avp_device_info, rte_avp_device_info, req_phys, req_phys);
SAME_AT(avp_device_info, rte_avp_device_info, sync_va, sync_va);
SAME_AT(avp_device_info, rte_avp_device_info, pool, pool);
SAME_AT(avp_device_info, rte_avp_device_info, ethaddr, ethaddr);
SAME_AT(avp_device_info, rte_avp_device_info, mode, mode);
SAME_AT(avp_device_info, rte_avp_device_info, mbuf_size, mbuf_size);
SAME_AT(avp_device_info, rte_avp_device_info, device_id, device_id);
SAME_AT(avp_device_info, rte_avp_device_info, max_rx_pkt_len, max_rx_pkt_len);
SAME_SIZE(avp_desc, rte_avp_desc);
SAME_AT(avp_desc, rte_avp_desc, pkt_mbuf, pkt_mbuf);
SAME_AT(avp_desc, rte_avp_desc, ol_flags, ol_flags);
SAME_AT(avp_desc, rte_avp_desc, next, next);
SAME_AT(avp_desc, rte_avp_desc, data, data);
SAME_AT(avp_desc, rte_avp_desc, data_len, data_len);
SAME_AT(avp_desc, rte_avp_desc, nb_segs, nb_segs);
SAME_AT(avp_desc, rte_avp_desc, pkt_len, pkt_len);
SAME_AT(avp_desc, rte_avp_desc, vlan_tci, vlan_tci);
SAME_SIZE(avp_request, rte_avp_request);
SAME_AT(avp_request, rte_avp_request, new_mtu, new_mtu);
SAME_AT(avp_request, rte_avp_request, config, config);
SAME_AT(avp_request, rte_avp_request, result, result);
SAME_SIZE(avp_device_config, rte_avp_device_config);
SAME_AT(avp_device_config, rte_avp_device_config, if_up, if_up);
SAME_SIZE(avp_memmap_entry, rte_avp_memmap);
SAME_SIZE(avp_memmap, rte_avp_memmap_info);
SAME_AT(avp_memmap, rte_avp_memmap_info, entry, maps);
SAME_AT(avp_fifo, rte_avp_fifo, slot, buffer);
_Static_assert((int)AVP_REQ_CHANGE_MTU == (int)RTE_AVP_REQ_CHANGE_MTU, "ids");
_Static_assert((int)AVP_REQ_CFG_NETWORK_IF == (int)RTE_AVP_REQ_CFG_NETWORK_IF, "ids");
_Static_assert((int)AVP_REQ_CFG_DEVICE == (int)RTE_AVP_REQ_CFG_DEVICE, "ids");
_Static_assert((int)AVP_REQ_SHUTDOWN == (int)RTE_AVP_REQ_SHUTDOWN_DEVICE, "ids");
_Static_assert(AVP_MIGRATION_ATTACHED == RTE_AVP_MIGRATION_ATTACHED, "migration");
_Static_assert(AVP_REG_MIGRATION_ACK == RTE_AVP_MIGRATION_ACK_OFFSET, "registers");
_Static_assert(AVP_MEMMAP_MAGIC == RTE_AVP_MEMMAP_MAGIC, "magic");
_Static_assert(AVP_DEVICE_MAGIC == RTE_AVP_DEVICE_MAGIC, "magic");
_Static_assert(AVP_HOST_VERSION == RTE_AVP_CURRENT_HOST_VERSION, "host version");
_Static_assert(AVP_GUEST_VERSION == RTE_AVP_CURRENT_GUEST_VERSION, "guest version");

int main(void) {
    printf("avp_device.h agrees with DPDK's rte_avp_common.h\n");
    return 0;
}
