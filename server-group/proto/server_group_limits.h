// The numbers of the messaging port and the server-group service, shared by
// server-groupd, libserver_group and the tests (docs/server-group.md, "Limits").
#pragma once

#include <cstddef>

namespace gsdk::sg {

// Broadcast payload bytes (server_group.h MAX_MSG_DATA_LEN); longer is refused, never cut.
inline constexpr std::size_t kMaxPayload = 3050;
// Envelope addresses ("cgcs.server_grp", "cgcs.scale", "scale-0000002a").
inline constexpr std::size_t kMaxAddress = 16;
// One JSON line on cgcs.messaging, either way. A 3050-byte payload of control
// characters escapes to 6 x 3050 bytes, so the largest legal broadcast fits.
inline constexpr std::size_t kMaxHostLine = 32 * 1024;
// A sender's instance name in a host broadcast.
inline constexpr std::size_t kMaxInstanceName = 255;
// What the original libservergroup reads per datagram; larger ones it cut and lost.
inline constexpr std::size_t kLegacyLibraryDatagram = 4096;
// One status answer: members and bytes (the daemon and the library both hold it).
inline constexpr std::size_t kMaxStatusMembers = 1024;
inline constexpr std::size_t kMaxStatusBytes = 1024 * 1024;

inline constexpr const char* kServerGroupAddress = "cgcs.server_grp";
inline constexpr const char* kScaleAddress = "cgcs.scale";
// The abstract datagram names of the original libraries (no trailing NUL).
inline constexpr const char* kLegacyAgentName = "cgcs.messaging";
inline constexpr const char* kLegacyGroupLibraryName = "cgcs.server_grp";

}  // namespace gsdk::sg
