// Everything vmhostd takes from a guest is bounded before it is used or kept
// (docs/vmhost.md, "Limits on what a guest sends"; docs/decisions/0004):
// times are clamped into ranges that cover any sane guest configuration, so
// no arithmetic on them can overflow and no vote or wait can stall the host;
// texts and the application list are cut to sizes the control API can show.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "heartbeat_host_wire.h"

namespace vmhost {

struct GuestBound {
    const char* key;  // the init key, as on the wire
    int64_t min;
    int64_t max;
};

// Our guest daemon announces its configured value + 1 s; its largest
// configurable values (1 h of vote or notice, 1 day to restart, 1 h between
// challenges) pass unchanged.
inline constexpr GuestBound kIntervalBound{"heartbeat_interval_ms", 100, 3600 * 1000};
inline constexpr GuestBound kVoteBound{"vote_secs", 0, 3601};
inline constexpr GuestBound kShutdownNoticeBound{"shutdown_notice_secs", 0, 3601};
inline constexpr GuestBound kSuspendNoticeBound{"suspend_notice_secs", 0, 3601};
inline constexpr GuestBound kResumeNoticeBound{"resume_notice_secs", 0, 3601};
inline constexpr GuestBound kRestartBound{"restart_secs", 0, 86401};

inline constexpr std::size_t kMaxGuestName = 128;
inline constexpr std::size_t kMaxGuestLogMsg = 512;
// json_line.h sizes a line for 1024 applications; the guest's names are at
// most 39 bytes (the legacy API's 40-byte buffer).
inline constexpr std::size_t kMaxApplications = 1024;
inline constexpr std::size_t kMaxApplicationName = 64;
inline constexpr std::size_t kMaxApplicationState = 16;

// Clamps `value` into the bound; if it had to, appends to `notes` e.g.
// "vote_secs 9223372036854775807 out of range 0..3601, using 3601".
int64_t clamp_guest_value(const GuestBound& bound, int64_t value, std::vector<std::string>* notes);

// Clamps every number of an init and cuts its name; returns the notes (empty
// when the init was within bounds).
std::vector<std::string> bound_init(gsdk::hbwire::Init* init);

// Keeps the first kMaxApplications (by name) with names and states cut to
// their limits; returns what had to be cut, or "" if nothing was.
std::string bound_applications(std::vector<gsdk::hbwire::ApplicationStatus>* apps);

// A guest's free text, one line, at most kMaxGuestLogMsg bytes.
std::string bound_log_msg(const std::string& text);

}  // namespace vmhost
