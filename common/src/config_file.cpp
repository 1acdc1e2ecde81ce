#include "gsdk/config_file.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gsdk {

namespace {
std::string trim(const std::string& s) {
    std::size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    std::size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}
}  // namespace

std::optional<ConfigFile> ConfigFile::load(const std::string& path, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        if (error) *error = path + ": " + std::strerror(errno);
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

ConfigFile ConfigFile::parse(const std::string& text, const std::string& origin) {
    ConfigFile cfg;
    cfg.origin_ = origin;
    std::istringstream in(text);
    std::string raw;
    for (int lineno = 1; std::getline(in, raw); ++lineno) {
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#') continue;
        std::size_t eq = line.find('=');
        if (eq == std::string::npos || eq == 0) {
            cfg.problems_.push_back(origin + ":" + std::to_string(lineno) + ": not KEY=VALUE: " + line);
            continue;
        }
        std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        cfg.entries_[key] = value;
    }
    return cfg;
}

std::optional<std::string> ConfigFile::get(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

long ConfigFile::get_int(const std::string& key, long fallback, long min, long max) {
    auto value = get(key);
    if (!value) return fallback;
    errno = 0;
    char* end = nullptr;
    long n = std::strtol(value->c_str(), &end, 10);
    if (errno || end == value->c_str() || *end != '\0' || n < min || n > max) {
        problems_.push_back(origin_ + ": " + key + "=" + *value + " is not an integer in [" + std::to_string(min) +
                            ", " + std::to_string(max) + "]; using " + std::to_string(fallback));
        return fallback;
    }
    return n;
}

}  // namespace gsdk
