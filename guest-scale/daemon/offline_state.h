// The daemon's own last-known offline set (STATE_FILE): rewritten after
// every scale operation and every restore, read at boot when neither the
// metadata service nor a config drive says which CPUs were offline. The text
// is the metadata's own form, "set([1, 2])". Blocking file I/O: the hotplug
// worker's and guest-scale-restore's, never the loop's.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gsdk::scale {

// Writes atomically (a temporary file renamed over the old one); creates the
// directory if it is missing. 0, or a negative errno and *why.
int save_offline_state(const std::string& path, const std::vector<unsigned>& offline, std::string* why);
// nullopt and *why when the file is missing, unreadable or malformed.
std::optional<std::vector<unsigned>> load_offline_state(const std::string& path, std::string* why);

}  // namespace gsdk::scale
