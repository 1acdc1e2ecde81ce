// The one table of the heartbeat's enum names. The wire strings of protocol v3
// (docs/protocols/heartbeat.md) are also what the C APIs' *_str() functions
// print, so the library, the daemon and the host all read them from here.
// Index = enum value; every enum family is numbered alike (enum_ties.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace gsdk::heartbeat::names {

inline constexpr std::array<const char*, 5> kActions = {"unknown", "none", "reboot", "stop", "log"};
inline constexpr std::array<const char*, 13> kEvents = {"unknown",
                                                        "stop",
                                                        "reboot",
                                                        "suspend",
                                                        "pause",
                                                        "unpause",
                                                        "resume",
                                                        "resize_begin",
                                                        "resize_end",
                                                        "live_migrate_begin",
                                                        "live_migrate_end",
                                                        "cold_migrate_begin",
                                                        "cold_migrate_end"};
inline constexpr std::array<const char*, 3> kNotifyTypes = {"unknown", "revocable", "irrevocable"};
// timeout and error exist on the wire only (the daemon's verdicts on a round).
inline constexpr std::array<const char*, 6> kVoteResults = {"unknown",  "accept",  "reject",
                                                            "complete", "timeout", "error"};

// The name of value v, or `fallback` outside the table.
template <std::size_t N>
constexpr const char* name_at(const std::array<const char*, N>& table, long v, const char* fallback) {
    return v >= 0 && static_cast<std::size_t>(v) < N ? table[static_cast<std::size_t>(v)] : fallback;
}

// The value named s, or -1.
template <std::size_t N>
constexpr int value_of(const std::array<const char*, N>& table, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == table[i]) return static_cast<int>(i);
    return -1;
}

}  // namespace gsdk::heartbeat::names
