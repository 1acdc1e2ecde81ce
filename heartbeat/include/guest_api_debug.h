/*
 * Logging helpers of the legacy guest SDK. Lines carry the process name given
 * to guest_api_debug_initialize() and go to stderr, or to syslog when stderr is
 * closed or /dev/null (a daemonised VNF). The level is process wide.
 */
#ifndef GUEST_API_DEBUG_H
#define GUEST_API_DEBUG_H

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
/* Prints one line, whatever the level. */
extern void guest_api_debug_log(const char* format, ...) __attribute__((format(printf, 1, 2)));
extern const char* guest_api_debug_log_level_str(GuestApiDebugLogLevelT level);

/* What the DPRINTF* macros call: the line is tagged with level and source position. */
extern void guest_api_debug_log_at(GuestApiDebugLogLevelT level, const char* file, int line, const char* format, ...)
    __attribute__((format(printf, 4, 5)));

/* Plain C99 variadic macros (no GNU ## needed): the first argument is the format. */
#define GUEST_API_DPRINTF_(level, ...)                                                                       \
    do {                                                                                                     \
        if (guest_api_debug_want_log(level)) guest_api_debug_log_at(level, __FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

#define DPRINTFE(...) GUEST_API_DPRINTF_(GUEST_API_DEBUG_LOG_LEVEL_ERROR, __VA_ARGS__)
#define DPRINTFI(...) GUEST_API_DPRINTF_(GUEST_API_DEBUG_LOG_LEVEL_INFO, __VA_ARGS__)
#define DPRINTFD(...) GUEST_API_DPRINTF_(GUEST_API_DEBUG_LOG_LEVEL_DEBUG, __VA_ARGS__)
#define DPRINTFV(...) GUEST_API_DPRINTF_(GUEST_API_DEBUG_LOG_LEVEL_VERBOSE, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* GUEST_API_DEBUG_H */
