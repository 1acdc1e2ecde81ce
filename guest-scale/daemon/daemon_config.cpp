#include "daemon_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "gsdk/config_file.h"

namespace gsdk::scale {

std::vector<std::string> apply_config_text(DaemonConfig* c, const std::string& text, const std::string& origin) {
    ConfigFile file = ConfigFile::parse(text, origin);
    if (auto v = file.get("SERVICE_SOCKET")) c->service_socket = *v;
    if (auto v = file.get("APP_SCALE_HELPER")) c->helper = *v;
    if (auto v = file.get("STATE_FILE")) c->state_file = *v;
    if (auto v = file.get("METADATA_URL")) c->metadata_url = *v;
    if (auto v = file.get("CONFIG_DRIVE")) c->config_drive = *v;
    c->access.read(file.entries());
    c->metadata_timeout_ms = file.get_int("METADATA_TIMEOUT_MS", c->metadata_timeout_ms, 100, 60000);
    c->max_subscribers = file.get_int("MAX_SUBSCRIBERS", c->max_subscribers, 1, 65536);
    c->max_subscribers_per_uid = file.get_int("MAX_SUBSCRIBERS_PER_UID", c->max_subscribers_per_uid, 1, 65536);
    std::vector<std::string> problems = file.problems();
    static const std::set<std::string> known = {
        "SERVICE_SOCKET",
        "APP_SCALE_HELPER",
        "STATE_FILE",
        "METADATA_URL",
        "CONFIG_DRIVE",
        "SOCKET_GROUP",
        "ALLOWED_GROUPS",
        "ALLOWED_UIDS",
        "METADATA_TIMEOUT_MS",
        "MAX_SUBSCRIBERS",
        "MAX_SUBSCRIBERS_PER_UID",
    };
    for (const auto& [key, value] : file.entries())
        if (!known.count(key)) problems.push_back(origin + ": unknown key " + key + " ignored");
    if (c->service_socket.empty() || c->service_socket.size() >= 108)
        problems.push_back(origin + ": SERVICE_SOCKET must be a socket path shorter than 108 bytes");
    return problems;
}

bool load_config_file(DaemonConfig* config, const std::string& path, bool required, std::string* error) {
    std::ifstream in(path);
    if (!in) {
        if (!required) return true;
        *error = "cannot read config file " + path + ": " + std::strerror(errno);
        return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& problem : apply_config_text(config, text.str(), path)) *error += problem + "\n";
    return true;
}

}  // namespace gsdk::scale
