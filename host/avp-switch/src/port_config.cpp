#include "port_config.hpp"

#include <avp/avp_device.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace avpsw {

const char* profile_name(Profile p) {
    switch (p) {
    case Profile::Legacy:
        return "legacy";
    case Profile::Ivshmem:
        return "ivshmem";
    case Profile::File:
        return "file";
    }
    return "?";
}

namespace {

std::optional<std::string> parse_u32(const std::string& key, const std::string& v, uint32_t lo, uint32_t hi,
                                     uint32_t& out) {
    char* end = nullptr;
    errno = 0;
    unsigned long long x = std::strtoull(v.c_str(), &end, 0);
    if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi)
        return key + "=" + v + ": expected a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    out = static_cast<uint32_t>(x);
    return std::nullopt;
}

std::optional<std::string> parse_mac(const std::string& v, std::array<uint8_t, 6>& mac) {
    unsigned b[6];
    char tail;
    if (std::sscanf(v.c_str(), "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return "mac=" + v + ": expected xx:xx:xx:xx:xx:xx";
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) return "mac=" + v + ": byte out of range";
        mac[i] = static_cast<uint8_t>(b[i]);
    }
    if (mac[0] & 1) return "mac=" + v + ": a port address cannot be multicast";
    return std::nullopt;
}

std::optional<std::string> set_key(PortConfig& p, const std::string& key, const std::string& v) {
    uint32_t x = 0;
    std::optional<std::string> err;
    if (key == "profile") {
        if (v == "legacy")
            p.profile = Profile::Legacy;
        else if (v == "ivshmem")
            p.profile = Profile::Ivshmem;
        else if (v == "file")
            p.profile = Profile::File;
        else
            return "profile=" + v + ": unknown profile (legacy, ivshmem, file)";
    } else if (key == "path") {
        if (v.empty() || v[0] != '/') return "path=" + v + ": must be an absolute path";
        p.path = v;
    } else if (key == "mac") {
        err = parse_mac(v, p.mac);
        p.mac_set = true;
    } else if (key == "buffers") {
        err = parse_u32(key, v, 64, 262144, p.buffers);
    } else if (key == "mbuf_size") {
        err = parse_u32(key, v, 256, 16320, p.mbuf_size);
    } else if (key == "fifo_len") {
        err = parse_u32(key, v, 16, 65536, p.fifo_len);
        if (!err && (p.fifo_len & (p.fifo_len - 1))) err = "fifo_len=" + v + ": must be a power of two";
    } else if (key == "queues") {
        err = parse_u32(key, v, 1, AVP_MAX_QUEUES, p.queues);
    } else if (key == "slot") {
        err = parse_u32(key, v, 1, 31, x);
        p.slot = static_cast<int>(x);
    } else if (key == "uio") {
        err = parse_u32(key, v, 0, 4095, x);
        p.uio = static_cast<int>(x);
    } else if (key == "doorbell") {
        if (v.empty() || v[0] != '/') return "doorbell=" + v + ": must be an absolute path";
        p.doorbell = v;
    } else if (key == "hugepages") {
        if (v == "auto")
            p.hugepages = HugePages::Auto;
        else if (v == "on")
            p.hugepages = HugePages::On;
        else if (v == "off")
            p.hugepages = HugePages::Off;
        else
            return "hugepages=" + v + ": expected auto, on or off";
    } else if (key == "replace") {
        if (v != "0" && v != "1") return "replace=" + v + ": expected 0 or 1";
        p.replace = v == "1";
    } else {
        return "unknown port option '" + key + "'";
    }
    return err;
}

}  // namespace

namespace {

// "NAME,key=value,..." for ports and TAPs: the name, then each key through `set`.
template <typename Config, typename Setter>
std::optional<std::string> parse_spec(const char* what, const std::string& spec, Config& out, Setter set) {
    std::stringstream ss(spec);
    std::string item;
    bool first = true;
    while (std::getline(ss, item, ',')) {
        if (first) {
            if (item.empty() || item.find('=') != std::string::npos)
                return std::string(what) + " spec '" + spec + "': must start with the " + what + " name";
            out.name = item;
            first = false;
            continue;
        }
        auto eq = item.find('=');
        if (eq == std::string::npos)
            return std::string(what) + " " + out.name + ": option '" + item + "' is not key=value";
        if (auto e = set(out, item.substr(0, eq), item.substr(eq + 1)))
            return std::string(what) + " " + out.name + ": " + *e;
    }
    if (first) return "empty " + std::string(what) + " spec";
    return std::nullopt;
}

std::optional<std::string> set_tap_key(TapConfig& t, const std::string& key, const std::string& v) {
    if (key == "ifname") {
        // IFNAMSIZ is 16: 15 characters; no '/' or blanks (the kernel refuses them)
        if (v.empty() || v.size() > 15 || v.find_first_of("/ \t\n:") != std::string::npos)
            return "ifname=" + v + ": expected 1..15 characters without '/', ':' or blanks";
        t.ifname = v;
        return std::nullopt;
    }
    if (key == "mtu") return parse_u32(key, v, 68, AVP_MAX_FRAME - 22, t.mtu);
    return "unknown tap option '" + key + "'";
}

}  // namespace

std::optional<std::string> parse_port_spec(const std::string& spec, PortConfig& out) {
    return parse_spec("port", spec, out, set_key);
}

std::optional<std::string> parse_tap_spec(const std::string& spec, TapConfig& out) {
    return parse_spec("tap", spec, out, set_tap_key);
}

std::optional<std::string> load_config_file(const std::string& path, SwitchConfig& out) {
    std::ifstream in(path);
    if (!in) return "cannot read config file " + path;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
        for (auto& jp : j.value("ports", nlohmann::json::array())) {
            PortConfig p;
            p.name = jp.at("name").get<std::string>();
            for (auto& [k, v] : jp.items()) {
                if (k == "name") continue;
                std::string s = v.is_string() ? v.get<std::string>() : v.dump();
                if (auto e = set_key(p, k, s)) return path + ": port " + p.name + ": " + *e;
            }
            out.ports.push_back(p);
        }
        for (auto& jt : j.value("taps", nlohmann::json::array())) {
            TapConfig t;
            t.name = jt.at("name").get<std::string>();
            for (auto& [k, v] : jt.items()) {
                if (k == "name") continue;
                std::string s = v.is_string() ? v.get<std::string>() : v.dump();
                if (auto e = set_tap_key(t, k, s)) return path + ": tap " + t.name + ": " + *e;
            }
            out.taps.push_back(t);
        }
        for (auto& jp : j.value("pairs", nlohmann::json::array()))
            out.pairs.emplace_back(jp.at(0).get<std::string>(), jp.at(1).get<std::string>());
        if (j.contains("socket")) out.socket_path = j["socket"].get<std::string>();
        if (j.contains("hugetlbfs")) out.hugetlbfs = j["hugetlbfs"].get<std::string>();
        if (j.contains("busy_poll")) out.busy_poll = j["busy_poll"].get<bool>();
        if (j.contains("migrate_timeout_ms")) out.migrate_timeout_ms = j["migrate_timeout_ms"].get<uint32_t>();
    } catch (const std::exception& e) {
        return path + ": " + e.what();
    }
    return std::nullopt;
}

std::optional<std::string> validate_config(SwitchConfig& cfg) {
    if (cfg.ports.empty()) return "no ports given (use --port or --config)";
    std::set<std::string> ifnames;
    for (auto& t : cfg.taps) {
        if (t.ifname.empty()) t.ifname = t.name;
        if (t.ifname.size() > 15) return "tap " + t.name + ": interface name longer than 15 characters (set ifname=)";
        if (!ifnames.insert(t.ifname).second) return "tap " + t.name + ": interface " + t.ifname + " used twice";
    }
    std::set<std::string> names, paths;
    int next_slot = 16;
    for (auto& p : cfg.ports) {
        if (p.name.empty() || p.name.size() >= AVP_IFNAME_SIZE)
            return "port name '" + p.name + "' must be 1.." + std::to_string(AVP_IFNAME_SIZE - 1) + " characters";
        if (!names.insert(p.name).second) return "duplicate port name '" + p.name + "'";
        if (p.path.empty()) return "port " + p.name + ": path= is required";
        if (p.profile == Profile::Legacy) {
            if (p.slot < 0) p.slot = next_slot++;
            if (p.uio < 0) p.uio = 200 + p.slot;
            char dev[32];
            std::snprintf(dev, sizeof(dev), "/0000:00:%02x.0", p.slot);
            if (!paths.insert(p.path + dev).second)
                return "port " + p.name + ": PCI slot " + std::to_string(p.slot) + " already used under " + p.path;
        } else if (!paths.insert(p.path).second) {
            return "port " + p.name + ": path " + p.path + " already used by another port";
        }
        p.hugetlbfs = cfg.hugetlbfs;
        if (p.profile == Profile::Legacy && p.hugepages == HugePages::On)
            return "port " + p.name + ": hugepages=on is for the file and ivshmem profiles";
        if (!p.doorbell.empty()) {
            if (p.profile != Profile::Ivshmem)
                return "port " + p.name + ": doorbell= needs profile=ivshmem (QEMU's ivshmem-doorbell)";
            if (!paths.insert(p.doorbell).second)
                return "port " + p.name + ": doorbell " + p.doorbell + " already used by another port";
        }
        if (!p.mac_set) {
            // locally administered, derived from the position so it is stable
            size_t i = &p - cfg.ports.data();
            p.mac = {0x02, 0x41, 0x56, 0x50, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
        }
    }
    for (auto& t : cfg.taps) {
        if (t.name.empty() || t.name.size() >= AVP_IFNAME_SIZE)
            return "tap name '" + t.name + "' must be 1.." + std::to_string(AVP_IFNAME_SIZE - 1) + " characters";
        if (!names.insert(t.name).second) return "duplicate port name '" + t.name + "'";
    }
    std::set<std::string> paired;
    for (auto& [a, b] : cfg.pairs) {
        for (auto* n : {&a, &b})
            for (auto& t : cfg.taps)
                if (t.name == *n) return "pair " + a + "," + b + ": tap " + t.name + " joins the learning domain only";
        for (auto* n : {&a, &b})
            if (!names.count(*n)) return "pair " + a + "," + b + ": unknown port '" + *n + "'";
        if (!paired.insert(a).second || (a != b && !paired.insert(b).second))
            return "pair " + a + "," + b + ": a port can be in one pair only";
    }
    return std::nullopt;
}

}  // namespace avpsw
