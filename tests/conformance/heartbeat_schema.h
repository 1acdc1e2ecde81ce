// The heartbeat v3 message table of PROTOCOLS.md, transcribed independently
// of common/heartbeat_wire.cpp so that the two can be checked against each other.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace conformance {

// Returns the problems of one line against the table: missing keys, extra
// keys, wrong value types, strings outside their enumerations.
// JSON's own type names (an integer is an integer, signed or not).
std::string json_kind(const nlohmann::json& value);

std::vector<std::string> check_heartbeat_line(const nlohmann::json& line, bool allow_extensions = false);

}  // namespace conformance
