/* A legacy VNF's logging that the original headers accepted: the original
 * declared no printf format checking, so VNFs built with -Werror may pass
 * formats that do not match their arguments. It must build as it did; with
 * GUEST_API_DEBUG_CHECK_FORMAT defined the compiler must reject it (a ctest
 * compiles it that way and expects failure). */
#include "guest_api_debug.h"

/* The legacy include guards, which VNF sources may test. */
#ifndef __GUEST_API_DEBUG_H__
#error "legacy guard __GUEST_API_DEBUG_H__ missing"
#endif
#ifndef __GUEST_API_TYPES_H__
#error "legacy guard __GUEST_API_TYPES_H__ missing"
#endif

int legacy_format_leniency(long value);

int legacy_format_leniency(long value) {
    DPRINTF(GUEST_API_DEBUG_LOG_LEVEL_INFO, "value %d", value);
    DPRINTFI("value %s", value);
    guest_api_debug_log("value %d\n", value);
    return 0;
}
