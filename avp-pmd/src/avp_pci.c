/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI front end: 1af4:1110 with subsystem 1af4:1104 (legacy AVP, BARs 0/2/4/5)
 * or 1af4:1100 (QEMU ivshmem, our region in BAR2).
 *
 * Ownership: DPDK's own net_avp (auto-loaded from Debian's PMD directory)
 * matches the legacy ids too, and whichever driver's probe succeeds first keeps
 * the device. So this driver takes a legacy device only when asked
 * (devargs claim=1, e.g. -a 0000:00:05.0,claim=1) and otherwise declines
 * (probe returns 1: "not mine"), leaving it to net_avp. An ivshmem device is
 * taken only when BAR2 starts with our region magic; other ivshmem users are
 * left alone.
 */
#include <errno.h>
#include <string.h>

#include <bus_pci_driver.h>
#include <ethdev_pci.h>
#include <rte_devargs.h>
#include <rte_kvargs.h>

#include "avp_dev.h"
#include "avp_log.h"
#include "avp_region.h"

#define ARG_CLAIM "claim"

static const struct rte_pci_id avp_pci_ids[] = {
	{.class_id = RTE_CLASS_ANY_ID,
	 .vendor_id = AVP_PCI_VENDOR_ID,
	 .device_id = AVP_PCI_DEVICE_ID,
	 .subsystem_vendor_id = AVP_PCI_SUB_VENDOR_ID,
	 .subsystem_device_id = AVP_PCI_SUB_DEVICE_ID},
	{.class_id = RTE_CLASS_ANY_ID,
	 .vendor_id = AVP_PCI_VENDOR_ID,
	 .device_id = AVP_PCI_DEVICE_ID,
	 .subsystem_vendor_id = AVP_PCI_SUB_VENDOR_ID,
	 .subsystem_device_id = AVP_PCI_SUB_DEVICE_IVSHMEM},
	{.vendor_id = 0},
};

static bool
is_legacy(const struct rte_pci_device *pci)
{
	return pci->id.subsystem_device_id == AVP_PCI_SUB_DEVICE_ID;
}

static bool
claim_asked(const struct rte_pci_device *pci)
{
	static const char *const keys[] = {ARG_CLAIM, NULL};
	const struct rte_devargs *da = pci->device.devargs;
	struct rte_kvargs *kv;
	const char *v;
	bool yes = false;

	if (da == NULL || da->args == NULL || da->args[0] == '\0')
		return false;
	kv = rte_kvargs_parse(da->args, keys);
	if (kv == NULL) {
		AVP_INIT_LOG(WARNING, "%s: devargs \"%s\" not understood (accepted: claim=0|1)",
			     pci->device.name, da->args);
		return false;
	}
	v = rte_kvargs_get(kv, ARG_CLAIM);
	yes = v != NULL && strcmp(v, "1") == 0;
	rte_kvargs_free(kv);
	return yes;
}

static const struct rte_mem_resource *
bar(const struct rte_pci_device *pci, unsigned int i, uint64_t min)
{
	const struct rte_mem_resource *r = &pci->mem_resource[i];

	return r->addr != NULL && r->len >= min ? r : NULL;
}

/* Finds the blocks of either layout; 1 means "not an AVP we should drive". */
static int
find_blocks(const struct rte_pci_device *pci, struct avp_blocks *b, const char **why)
{
	const struct rte_mem_resource *regs, *data, *mm, *info;
	int ret;

	memset(b, 0, sizeof(*b));
	data = bar(pci, AVP_BAR_MEMORY, 1);
	if (data == NULL) {
		*why = "BAR2 not mapped";
		return -ENODEV;
	}
	if (!is_legacy(pci)) {
		ret = avp_region_parse(data->addr, data->len, b, why);
		return ret == -EAGAIN ? 1 : ret;
	}
	regs = bar(pci, AVP_BAR_MMIO, AVP_REG_BLOCK_SIZE);
	mm = bar(pci, AVP_BAR_MEMMAP, offsetof(struct avp_memmap, entry));
	info = bar(pci, AVP_BAR_DEVICE, sizeof(struct avp_device_info));
	if (regs == NULL || mm == NULL || info == NULL) {
		*why = "legacy BAR 0, 4 or 5 missing or too small";
		return -ENODEV;
	}
	b->regs = regs->addr;
	b->memmap = mm->addr;
	b->memmap_size = mm->len;
	b->info = info->addr;
	b->info_size = info->len;
	b->data = data->addr;
	b->data_size = data->len;
	return 0;
}

static int
reload_pci_blocks(struct avp_dev *avp, const char **why)
{
	int ret = find_blocks(avp->front, &avp->blocks, why);

	return ret > 0 ? -EINVAL : ret;
}

static int
avp_pci_eth_init(struct rte_eth_dev *eth)
{
	struct rte_pci_device *pci = RTE_ETH_DEV_TO_PCI(eth);
	struct avp_dev *avp = avp_of(eth);
	struct avp_blocks b;
	const char *why = "";
	int ret;

	ret = find_blocks(pci, &b, &why);
	if (ret) {
		AVP_INIT_LOG(ERR, "%s: %s", pci->device.name, why);
		return ret > 0 ? -ENODEV : ret;
	}
	avp->front = pci;
	avp->reload_blocks = reload_pci_blocks;
	return avp_dev_init(eth, is_legacy(pci) ? AVP_PROFILE_LEGACY : AVP_PROFILE_IVSHMEM, &b);
}

static int
avp_pci_probe(struct rte_pci_driver *drv, struct rte_pci_device *pci)
{
	struct avp_blocks b;
	const char *why = "";
	int ret;

	if (is_legacy(pci) && !claim_asked(pci)) {
		AVP_INIT_LOG(INFO, "%s: legacy AVP left to net_avp (add claim=1 to take it)",
			     pci->device.name);
		return 1;
	}
	ret = find_blocks(pci, &b, &why);
	if (ret == 1) {
		AVP_INIT_LOG(INFO, "%s: ivshmem without an AVP region: not ours", pci->device.name);
		return 1;
	}
	if (ret) {
		AVP_INIT_LOG(ERR, "%s: %s", pci->device.name, why);
		return ret;
	}
	return rte_eth_dev_pci_generic_probe(pci, sizeof(struct avp_dev), avp_pci_eth_init);
}

static int
avp_pci_eth_uninit(struct rte_eth_dev *eth)
{
	/* Driver cleanup only: the generic remove releases the port afterwards. */
	return eth->dev_ops->dev_close(eth);
}

static int
avp_pci_remove(struct rte_pci_device *pci)
{
	return rte_eth_dev_pci_generic_remove(pci, avp_pci_eth_uninit);
}

static struct rte_pci_driver avp_pci_driver = {
	.id_table = avp_pci_ids,
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
	.probe = avp_pci_probe,
	.remove = avp_pci_remove,
};

RTE_PMD_REGISTER_PCI(net_gsdk_avp_pci, avp_pci_driver);
RTE_PMD_REGISTER_PCI_TABLE(net_gsdk_avp_pci, avp_pci_ids);
RTE_PMD_REGISTER_KMOD_DEP(net_gsdk_avp_pci, "* igb_uio | uio_pci_generic | vfio-pci");
RTE_PMD_REGISTER_PARAM_STRING(net_gsdk_avp_pci, ARG_CLAIM
			      "=<1: drive a legacy (subsystem 1104) device instead of net_avp>");
