/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File profile front end: a virtual device whose region is a file the host
 * switch created (e.g. /dev/shm/avp0), mapped whole.
 *   --vdev=net_gsdk_avp0,path=/dev/shm/avp0[,wait=MS][,ctrl_timeout=MS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bus_vdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "avp_dev.h"
#include "avp_log.h"
#include "avp_region.h"

#define ARG_PATH	 "path"
#define ARG_WAIT	 "wait"
#define ARG_CTRL_TIMEOUT "ctrl_timeout"

static const char *const valid_args[] = {ARG_PATH, ARG_WAIT, ARG_CTRL_TIMEOUT, NULL};

struct file_region {
	uint8_t *base;
	size_t len;
};

struct file_args {
	char path[PATH_MAX];
	unsigned int wait_ms;
	unsigned int ctrl_timeout_ms;
};

static int
take_string(const char *key, const char *value, void *out)
{
	if (strlen(value) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(out, value);
	return 0;
}

static int
take_ms(const char *key, const char *value, void *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno || *end != '\0' || end == value || v > 600000) {
		AVP_INIT_LOG(ERR, "%s=%s: expected milliseconds (0..600000)", key, value);
		return -EINVAL;
	}
	*(unsigned int *)out = v;
	return 0;
}

static int
parse_args(const char *args, struct file_args *fa)
{
	struct rte_kvargs *kv;
	int ret = 0;

	memset(fa, 0, sizeof(*fa));
	kv = rte_kvargs_parse(args != NULL ? args : "", valid_args);
	if (kv == NULL) {
		AVP_INIT_LOG(ERR,
			     "bad device arguments \"%s\" (accepted: path, wait, ctrl_timeout)",
			     args);
		return -EINVAL;
	}
	if (rte_kvargs_count(kv, ARG_PATH) != 1) {
		AVP_INIT_LOG(ERR, "exactly one path=<region file> is required");
		ret = -EINVAL;
	}
	if (ret == 0)
		ret = rte_kvargs_process(kv, ARG_PATH, take_string, fa->path);
	if (ret == 0)
		ret = rte_kvargs_process(kv, ARG_WAIT, take_ms, &fa->wait_ms);
	if (ret == 0)
		ret = rte_kvargs_process(kv, ARG_CTRL_TIMEOUT, take_ms, &fa->ctrl_timeout_ms);
	rte_kvargs_free(kv);
	return ret;
}

static int
map_region(const char *path, struct file_region *fr, const char **why)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*why = strerror(errno);
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct avp_region_header)) {
		*why = "not a region file (too small or not regular)";
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		*why = strerror(errno);
		return -errno;
	}
	fr->base = p;
	fr->len = st.st_size;
	return 0;
}

/* The mapping stays; the host may have rewritten the header for the new attachment. */
static int
reload_file_blocks(struct avp_dev *avp, const char **why)
{
	struct file_region *fr = avp->front;

	return avp_region_parse(fr->base, fr->len, &avp->blocks, why);
}

static void
release_file(struct avp_dev *avp)
{
	struct file_region *fr = avp->front;

	if (fr == NULL)
		return;
	munmap(fr->base, fr->len);
	rte_free(fr);
	avp->front = NULL;
}

static void
nap_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int
avp_vdev_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct file_region *fr = NULL;
	struct rte_eth_dev *eth;
	struct avp_blocks blocks;
	struct file_args fa;
	const char *why = "";
	unsigned int waited = 0;
	struct avp_dev *avp;
	int ret;

	ret = parse_args(rte_vdev_device_args(vdev), &fa);
	if (ret)
		return ret;
	fr = rte_zmalloc("gsdk_avp_file", sizeof(*fr), 0);
	if (fr == NULL)
		return -ENOMEM;
	/* The switch may still be creating the file: wait= gives it time. */
	for (;;) {
		ret = map_region(fa.path, fr, &why);
		if (ret == 0) {
			ret = avp_region_parse(fr->base, fr->len, &blocks, &why);
			if (ret)
				munmap(fr->base, fr->len);
		}
		if (ret == 0 || waited >= fa.wait_ms)
			break;
		nap_ms(10);
		waited += 10;
	}
	if (ret) {
		if (why[0] != '\0')
			AVP_INIT_LOG(ERR, "%s: %s: %s", name, fa.path, why);
		rte_free(fr);
		return ret;
	}

	eth = rte_eth_vdev_allocate(vdev, sizeof(struct avp_dev));
	if (eth == NULL) {
		munmap(fr->base, fr->len);
		rte_free(fr);
		return -ENOMEM;
	}
	avp = avp_of(eth);
	avp->front = fr;
	avp->reload_blocks = reload_file_blocks;
	avp->release_front = release_file;
	avp->ctrl.timeout_ms = fa.ctrl_timeout_ms;
	ret = avp_dev_init(eth, AVP_PROFILE_FILE, &blocks);
	if (ret) {
		release_file(avp);
		rte_eth_dev_release_port(eth);
		return ret;
	}
	rte_eth_dev_probing_finish(eth);
	AVP_INIT_LOG(NOTICE, "%s: port %u on %s", name, eth->data->port_id, fa.path);
	return 0;
}

static int
avp_vdev_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	if (eth == NULL)
		return 0;
	rte_eth_dev_close(eth->data->port_id);
	return 0;
}

static struct rte_vdev_driver avp_vdev_driver = {
	.probe = avp_vdev_probe,
	.remove = avp_vdev_remove,
};

RTE_PMD_REGISTER_VDEV(net_gsdk_avp, avp_vdev_driver);
RTE_PMD_REGISTER_PARAM_STRING(net_gsdk_avp,
			      ARG_PATH "=<region file> " ARG_WAIT
				       "=<ms to wait for the region> " ARG_CTRL_TIMEOUT
				       "=<ms per control request, default 500>");
