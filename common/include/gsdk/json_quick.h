// A quick reader and writer for the JSON lines of the host ports, beside
// nlohmann's. nlohmann's lexer takes one virtual-free but per-byte call and a
// push_back for every character of a string, and its writer escapes byte by
// byte; a 3 KB broadcast payload made half of server-groupd's time. These
// copy runs of plain bytes at once. They cover what our lines are made of
// (objects, arrays, strings, small integers, true/false/null) and decide
// nothing else: whatever they do not know, or cannot accept, they leave to
// nlohmann, so every refusal and its wording stay nlohmann's
// (docs/decisions/0026-quick-json-for-host-lines.md). The fuzz target
// fuzz_json_line checks both against nlohmann on every input.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gsdk {

// The object `text` holds, exactly as nlohmann::json::parse() would build it
// (same types, last of duplicate keys kept). nullopt means "not decided
// here": the text is not an object, is invalid, or holds a float, a large
// integer or a nesting deeper than 64 — the caller asks nlohmann.
std::optional<nlohmann::json> quick_parse_object(std::string_view text);

// Appends what value.dump(-1, ' ', false, error_handler_t::replace) gives.
// False (and *out as it was) when the value holds invalid UTF-8 or binary:
// the caller asks nlohmann, whose replacement rules then apply.
bool quick_dump(const nlohmann::json& value, std::string* out);

// value.dump(-1, ' ', false, error_handler_t::replace), quickly when it can.
std::string dump_compact(const nlohmann::json& value);

}  // namespace gsdk
