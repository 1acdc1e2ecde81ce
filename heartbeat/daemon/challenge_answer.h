// The challenge_response the host gets, kept far below the receivers' line
// limit (kMaxJsonLine, 256 KiB) whatever the number of applications: the log
// message is bounded by merge_health(), and the "applications" extension
// lists the failing applications first, then the healthy ones, until its
// share of the budget is used; the rest are counted in applications_omitted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "health_verdict.h"
#include "heartbeat_host_wire.h"

namespace gsdk::heartbeat {

// The longest line the guest sends the host.
inline constexpr std::size_t kGuestLineBudget = 16 * 1024;

// applications: nullptr when the host does not get the extension this time.
hbwire::ChallengeResponse compose_challenge_response(int64_t challenge, const HealthVerdict& verdict,
                                                     const std::vector<hbwire::ApplicationStatus>* applications);

}  // namespace gsdk::heartbeat
