/*
 * Logging helpers of the legacy guest SDK. As the original did, lines go to
 * syslog (facility user, tagged with the name given to
 * guest_api_debug_initialize()) and the level starts at INFO. The
 * environment may change both without a rebuild:
 * GUEST_API_DEBUG_LOG=stderr and GUEST_API_DEBUG_LOG_LEVEL=error|info|debug|verbose.
 * The level is process wide.
 *
 * The original declared no printf format checking, and VNFs built with
 * -Werror may pass formats it would reject; define
 * GUEST_API_DEBUG_CHECK_FORMAT before including this header to have the
 * compiler check them.
 */
#ifndef __GUEST_API_DEBUG_H__ /* the legacy guard, which VNF sources may test */
#define __GUEST_API_DEBUG_H__

#include <stdbool.h>

#include "guest_api_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    GUEST_API_DEBUG_LOG_LEVEL_ERROR,
    GUEST_API_DEBUG_LOG_LEVEL_INFO,
    GUEST_API_DEBUG_LOG_LEVEL_DEBUG,
    GUEST_API_DEBUG_LOG_LEVEL_VERBOSE
} GuestApiDebugLogLevelT;

extern GuestApiErrorT guest_api_debug_initialize(char process_name[]);
extern GuestApiErrorT guest_api_debug_finalize(void);

extern void guest_api_debug_set_log_level(GuestApiDebugLogLevelT level);
/* True when messages of this level are printed (level <= the set level). */
extern bool guest_api_debug_want_log(GuestApiDebugLogLevelT level);
#if defined(GUEST_API_DEBUG_CHECK_FORMAT) && defined(__GNUC__)
#define GUEST_API_DEBUG_FORMAT_(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define GUEST_API_DEBUG_FORMAT_(fmt, args)
#endif

/* Prints one line, whatever the level. */
extern void guest_api_debug_log(const char* format, ...) GUEST_API_DEBUG_FORMAT_(1, 2);
extern const char* guest_api_debug_log_level_str(GuestApiDebugLogLevelT level);

/* What the DPRINTF* macros call: the line is tagged with level and source position. */
extern void guest_api_debug_log_at(GuestApiDebugLogLevelT level, const char* file, int line, const char* format, ...)
    GUEST_API_DEBUG_FORMAT_(4, 5);

/*
 * DPRINTF(level, format, ...) as in the original, and one macro per level.
 * Plain C99 variadic macros (no GNU ## needed): the first argument after the
 * level is the format.
 */
#define DPRINTF(level, ...)                                                                                  \
    do {                                                                                                     \
        if (guest_api_debug_want_log(level)) guest_api_debug_log_at(level, __FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

#define DPRINTFE(...) DPRINTF(GUEST_API_DEBUG_LOG_LEVEL_ERROR, __VA_ARGS__)
#define DPRINTFI(...) DPRINTF(GUEST_API_DEBUG_LOG_LEVEL_INFO, __VA_ARGS__)
#define DPRINTFD(...) DPRINTF(GUEST_API_DEBUG_LOG_LEVEL_DEBUG, __VA_ARGS__)
#define DPRINTFV(...) DPRINTF(GUEST_API_DEBUG_LOG_LEVEL_VERBOSE, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* __GUEST_API_DEBUG_H__ */
