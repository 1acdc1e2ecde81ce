// The texts CPU sets come in: the metadata's offline_cpuset (the legacy
// Python form "set([1, 2])", "set()" for none, or a plain JSON list
// "[1, 2]"), and the JSON array handed to the app scale helper.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gsdk::scalewire {

// Ascending, duplicates dropped; nullopt and *why when the text is neither
// form or names a number that is not a CPU (negative, >= kMaxCpus).
std::optional<std::vector<unsigned>> parse_cpu_set(std::string_view text, std::string* why);
// The same for a JSON value: a string in either form, or an array of numbers.
std::optional<std::vector<unsigned>> parse_cpu_set(const nlohmann::json& value, std::string* why);

// "[0,1,2]" (the helper's argument; compact JSON).
std::string cpu_array_text(const std::vector<unsigned>& cpus);
// "set([1, 2])" (what the state file keeps, as the metadata writes it).
std::string legacy_set_text(const std::vector<unsigned>& cpus);

}  // namespace gsdk::scalewire
