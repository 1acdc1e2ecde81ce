// KEY=VALUE configuration files (the legacy daemons' format): '#' comments,
// optional quotes around values, unknown keys kept for the caller to warn about.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gsdk {

class ConfigFile {
public:
    // Returns nullopt (and *error) only if the file cannot be read; malformed
    // lines are collected in problems() and skipped.
    static std::optional<ConfigFile> load(const std::string& path, std::string* error);
    static ConfigFile parse(const std::string& text, const std::string& origin = "<string>");

    std::optional<std::string> get(const std::string& key) const;
    // Integer in [min, max]; out-of-range or non-numeric values are reported
    // in problems() and the fallback is returned.
    long get_int(const std::string& key, long fallback, long min, long max);
    const std::map<std::string, std::string>& entries() const { return entries_; }
    const std::vector<std::string>& problems() const { return problems_; }

private:
    std::string origin_;
    std::map<std::string, std::string> entries_;
    std::vector<std::string> problems_;
};

}  // namespace gsdk
