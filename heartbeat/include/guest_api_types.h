/*
 * Result codes shared by the guest SDK's legacy C APIs (source compatible with
 * the Titanium Server guest SDK header of the same name).
 */
#ifndef __GUEST_API_TYPES_H__ /* the legacy guard, which VNF sources may test */
#define __GUEST_API_TYPES_H__

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GUEST_API_OKAY, GUEST_API_FAILED, GUEST_API_INTERRUPTED, GUEST_API_TRY_AGAIN } GuestApiErrorT;

/* A short English name for the code; "???" for values outside the enum. */
extern const char* guest_api_error_str(GuestApiErrorT error);

#ifdef __cplusplus
}
#endif

#endif /* __GUEST_API_TYPES_H__ */
