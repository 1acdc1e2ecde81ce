/* SPDX-License-Identifier: BSD-3-Clause */
/* Our flat region (ivshmem BAR2 or a file): finding the blocks in it. */
#ifndef GSDK_AVP_REGION_PARSE_H
#define GSDK_AVP_REGION_PARSE_H

#include <stdint.h>

#include "avp_model.h"

/*
 * Checks the header at base (len bytes mapped) and points b at the blocks.
 * Returns 0, -EAGAIN when the magic is not there (yet), or -EINVAL (why set).
 */
int avp_region_parse(uint8_t *base, uint64_t len, struct avp_blocks *b, const char **why);

#endif /* GSDK_AVP_REGION_PARSE_H */
