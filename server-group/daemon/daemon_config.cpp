#include "daemon_config.h"

#include <pwd.h>

#include <cstdlib>
#include <set>

#include "gsdk/config_file.h"
#include "messaging_envelope.h"
#include "server_group_limits.h"

namespace gsdk::sg {

namespace {

// "cgcs.scale" or "cgcs.scale:user", separated by commas or blanks.
std::vector<ReservedAddress> parse_services(const std::string& text, const std::string& origin,
                                            std::vector<std::string>* problems) {
    std::vector<ReservedAddress> out;
    std::string item;
    auto take = [&] {
        if (item.empty()) return;
        ReservedAddress r;
        std::string user;
        auto colon = item.find(':');
        r.address = item.substr(0, colon);
        if (colon != std::string::npos) user = item.substr(colon + 1);
        item.clear();
        if (!sgwire::valid_address(r.address) || r.address == kServerGroupAddress) {
            problems->push_back(origin + ": LOCAL_SERVICES: " + r.address +
                                " is not an address a local service may claim; left out");
            return;
        }
        if (!user.empty()) {
            if (user.find_first_not_of("0123456789") == std::string::npos && user.size() <= 10) {
                r.owner = static_cast<uid_t>(std::strtoul(user.c_str(), nullptr, 10));
            } else if (passwd* pw = ::getpwnam(user.c_str())) {
                r.owner = pw->pw_uid;
            } else {
                problems->push_back(origin + ": LOCAL_SERVICES: no user " + user + " for " + r.address + "; root only");
                user.clear();
            }
            r.root_only = user.empty();
        }
        for (const auto& other : out)
            if (other.address == r.address) {
                problems->push_back(origin + ": LOCAL_SERVICES: " + r.address + " listed twice");
                return;
            }
        out.push_back(r);
    };
    for (char c : text) {
        if (c == ',' || c == ' ' || c == '\t')
            take();
        else
            item += c;
    }
    take();
    return out;
}

}  // namespace

std::vector<std::string> apply_config_text(DaemonConfig* c, const std::string& text, const std::string& origin) {
    ConfigFile file = ConfigFile::parse(text, origin);
    c->status_timeout_ms = file.get_int("STATUS_TIMEOUT_MS", c->status_timeout_ms, 100, 600000);
    c->max_clients = file.get_int("MAX_CLIENTS", c->max_clients, 1, 65536);
    c->max_clients_per_uid = file.get_int("MAX_CLIENTS_PER_UID", c->max_clients_per_uid, 1, 65536);
    c->broadcast_rate = file.get_int("BROADCAST_RATE", c->broadcast_rate, 1, 100000);
    c->broadcast_burst = file.get_int("BROADCAST_BURST", c->broadcast_burst, 1, 100000);
    c->access.read(file.entries());

    std::vector<std::string> problems = file.problems();
    if (auto v = file.get("LEGACY_DATAGRAMS")) {
        if (*v == "yes" || *v == "1" || *v == "true")
            c->legacy_datagrams = true;
        else if (*v == "no" || *v == "0" || *v == "false")
            c->legacy_datagrams = false;
        else
            problems.push_back(origin + ": LEGACY_DATAGRAMS=" + *v + " is not yes or no");
    }
    if (auto v = file.get("LOCAL_SERVICES")) c->local_services = parse_services(*v, origin, &problems);

    static const std::set<std::string> known = {
        "STATUS_TIMEOUT_MS", "MAX_CLIENTS",    "MAX_CLIENTS_PER_UID", "BROADCAST_RATE",   "BROADCAST_BURST",
        "ALLOWED_UIDS",      "ALLOWED_GROUPS", "SOCKET_GROUP",        "LEGACY_DATAGRAMS", "LOCAL_SERVICES",
    };
    for (const auto& [key, value] : file.entries())
        if (!known.count(key)) problems.push_back(origin + ": unknown key " + key + " ignored");
    return problems;
}

}  // namespace gsdk::sg
