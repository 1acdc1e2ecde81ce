#include "messaging_schema.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace conformance::messaging {

namespace {

using json = nlohmann::json;
using Problems = std::vector<std::string>;

std::string kind(const json& v) { return v.is_number_integer() ? "integer" : v.type_name(); }

// Collects problems with one object's keys under a name ("envelope", "scale response"...).
class Keys {
public:
    Keys(const json& object, std::string where, Problems* out) : obj_(object), where_(std::move(where)), out_(out) {}

    const json* need(const char* key) {
        seen_.insert(key);
        auto it = obj_.find(key);
        if (it == obj_.end()) {
            fail(std::string("missing ") + key);
            return nullptr;
        }
        return &*it;
    }
    const json* may(const char* key) {
        seen_.insert(key);
        auto it = obj_.find(key);
        return it == obj_.end() ? nullptr : &*it;
    }
    void absent(const char* key, const char* why) {
        seen_.insert(key);
        if (obj_.contains(key)) fail(std::string(key) + " must not be present " + why);
    }
    void integer(const json* v, const char* key) {
        if (v && !v->is_number_integer()) fail(std::string(key) + " is " + kind(*v) + ", not an integer");
    }
    void string(const json* v, const char* key) {
        if (v && !v->is_string()) fail(std::string(key) + " is " + kind(*v) + ", not a string");
    }
    void object(const json* v, const char* key) {
        if (v && !v->is_object())
            fail(std::string(key) + " is " + kind(*v) + ", not an object (nested JSON, never a string)");
    }
    void word(const json* v, const char* key, const std::set<std::string>& words) {
        string(v, key);
        if (v && v->is_string() && !words.count(v->get<std::string>()))
            fail(std::string(key) + " is " + v->dump() + ", not one of the protocol's strings");
    }
    void cpu_list(const json* v, const char* key) {
        if (!v) return;
        if (!v->is_array()) return fail(std::string(key) + " is " + kind(*v) + ", not an array");
        for (const auto& e : *v)
            if (!e.is_number_integer() || e.get<int64_t>() < 0)
                return fail(std::string(key) + " holds " + e.dump() + ", not a CPU number");
    }
    void version_two(const json* v) {
        integer(v, "version");
        if (v && v->is_number_integer() && *v != 2) fail("version is " + v->dump() + ", not 2");
    }
    // Keys never mentioned by need/may/absent are unexpected.
    void no_others(const std::set<std::string>& tolerated = {}) {
        for (const auto& [key, value] : obj_.items())
            if (!seen_.count(key) && !tolerated.count(key)) fail("unexpected key " + key);
    }
    void fail(const std::string& what) { out_->push_back(where_ + ": " + what); }

private:
    const json& obj_;
    std::string where_;
    Problems* out_;
    std::set<std::string> seen_;
};

bool is_local_address(const std::string& a) { return a == kServerGroupAddress || a == kScaleAddress; }

void check_data_for(const std::string& local, const json& data, Direction direction, Problems* out) {
    Problems inner =
        local == kServerGroupAddress ? check_server_group_data(data, direction) : check_scale_data(data, direction);
    out->insert(out->end(), inner.begin(), inner.end());
}

}  // namespace

bool is_host_scale_address(const std::string& a) {
    return a.size() == 14 && a.compare(0, 6, "scale-") == 0 &&
           std::all_of(a.begin() + 6, a.end(), [](unsigned char c) { return std::isxdigit(c); });
}

std::vector<std::string> check_line(const json& line, Direction direction) {
    Problems out;
    if (!line.is_object()) return {"envelope: not a JSON object"};
    Keys k(line, "envelope", &out);
    k.version_two(k.need("version"));
    const json* source = k.need("source_addr");
    const json* dest = k.need("dest_addr");
    const json* data = k.need("data");
    k.string(source, "source_addr");
    k.string(dest, "dest_addr");
    k.object(data, "data");
    k.no_others();
    if (!source || !dest || !source->is_string() || !dest->is_string()) return out;

    const std::string local =
        direction == Direction::GuestToHost ? source->get<std::string>() : dest->get<std::string>();
    const std::string remote =
        direction == Direction::GuestToHost ? dest->get<std::string>() : source->get<std::string>();
    const char* local_key = direction == Direction::GuestToHost ? "source_addr" : "dest_addr";
    if (!is_local_address(local)) {
        k.fail(std::string(local_key) + " \"" + local + "\" is not a guest service address");
        return out;
    }
    if (local == kServerGroupAddress && remote != kServerGroupAddress)
        k.fail("the server-group peer on the host is \"cgcs.server_grp\", not \"" + remote + "\"");
    if (local == kScaleAddress && !is_host_scale_address(remote))
        k.fail("the scaling peer on the host is scale-XXXXXXXX, not \"" + remote + "\"");
    if (data && data->is_object()) check_data_for(local, *data, direction, &out);
    return out;
}

std::vector<std::string> check_service_request(const json& envelope, const std::string& local_address) {
    Problems out;
    if (!envelope.is_object()) return {"service request: not a JSON object"};
    Keys k(envelope, "service request", &out);
    k.version_two(k.need("version"));
    const json* dest = k.need("dest_addr");
    const json* data = k.need("data");
    k.string(dest, "dest_addr");
    k.object(data, "data");
    k.absent("source_addr", "(the relay adds it)");
    k.no_others();
    if (!is_local_address(local_address))
        k.fail("\"" + local_address + "\" is not a guest service address");
    else if (data && data->is_object())
        check_data_for(local_address, *data, Direction::GuestToHost, &out);
    return out;
}

std::vector<std::string> check_server_group_data(const json& data, Direction direction) {
    Problems out;
    if (!data.is_object()) return {"server-group data: not a JSON object"};
    Keys k(data, "server-group data", &out);
    const json* type = k.need("msg_type");
    k.string(type, "msg_type");
    std::string t = type && type->is_string() ? type->get<std::string>() : "";
    if (direction == Direction::GuestToHost) {
        k.version_two(k.need("version"));
        if (t == "broadcast") {
            const json* payload = k.need("data");
            k.string(payload, "data");
            if (payload && payload->is_string()) {
                const auto& s = payload->get_ref<const std::string&>();
                if (s.size() > kMaxBroadcastBytes)
                    k.fail("broadcast payload of " + std::to_string(s.size()) + " bytes, over 3050");
                if (s.find('\n') != std::string::npos) k.fail("broadcast payload holds a newline");
            }
        } else if (t == "status_query") {
            k.integer(k.need("seq"), "seq");
        } else if (type) {
            k.fail("msg_type \"" + t + "\" is not sent by a guest");
        }
        k.no_others();
        return out;
    }
    // Host to guest: the inner version is not checked (the real host sends
    // the string "version"); a receiver tolerates the layer's other keys.
    k.may("version");
    if (t == "broadcast") {
        k.string(k.need("source_instance"), "source_instance");
        k.string(k.need("data"), "data");
    } else if (t == "notification") {
        k.object(k.need("data"), "data");
    } else if (t == "status_response") {
        k.integer(k.need("seq"), "seq");
        k.object(k.need("data"), "data");
    } else if (t == "status_response_done") {
        k.integer(k.need("seq"), "seq");
    } else if (t == "nack") {
        k.string(k.need("log_msg"), "log_msg");
        k.string(k.may("orig_msg_type"), "orig_msg_type");
    } else if (type) {
        k.fail("msg_type \"" + t + "\" is not sent by the host");
    }
    k.no_others({"seq", "source_instance", "data", "log_msg", "orig_msg_type"});
    return out;
}

std::vector<std::string> check_scale_data(const json& data, Direction direction) {
    Problems out;
    if (!data.is_object()) return {"scale data: not a JSON object"};
    static const std::set<std::string> directions = {"up", "down"};
    if (direction == Direction::HostToGuest) {
        Keys k(data, "scale_request", &out);
        k.version_two(k.need("version"));
        k.word(k.need("msg_type"), "msg_type", {"scale_request"});
        k.integer(k.need("timeout_ms"), "timeout_ms");
        k.word(k.need("resource"), "resource", {"cpu"});
        const json* dir = k.need("direction");
        k.word(dir, "direction", directions);
        if (dir && *dir == "up") {
            k.integer(k.need("online_cpu"), "online_cpu");
            k.cpu_list(k.need("online_cpus"), "online_cpus");
        } else {
            k.absent("online_cpu", "in a scale-down request");
            k.absent("online_cpus", "in a scale-down request");
        }
        k.no_others();
        return out;
    }
    Keys k(data, "scale response", &out);
    k.absent("msg_type", "(a scale response has none)");
    k.version_two(k.need("version"));
    k.word(k.need("resource"), "resource", {"cpu"});
    const json* dir = k.need("direction");
    k.word(dir, "direction", directions);
    const json* result = k.need("result");
    k.word(result, "result", {"success", "fail"});
    if (result && *result == "fail") {
        k.string(k.need("err_msg"), "err_msg");
        for (const char* cpu_key : {"offline_cpu", "online_cpu", "online_cpus"}) k.absent(cpu_key, "in a failure");
    } else if (result && *result == "success" && dir && dir->is_string()) {
        bool down = *dir == "down";
        const json* cpu = k.need(down ? "offline_cpu" : "online_cpu");
        k.absent(down ? "online_cpu" : "offline_cpu", down ? "in a scale-down" : "in a scale-up");
        k.absent("err_msg", "in a success");
        const json* online = k.need("online_cpus");
        k.integer(cpu, down ? "offline_cpu" : "online_cpu");
        k.cpu_list(online, "online_cpus");
        if (cpu && cpu->is_number_integer() && online && online->is_array()) {
            bool listed = std::find(online->begin(), online->end(), *cpu) != online->end();
            if (down && *cpu == 0) k.fail("CPU 0 is never taken offline");
            if (down && listed) k.fail("offline_cpu " + cpu->dump() + " is still in online_cpus");
            if (!down && !listed) k.fail("online_cpu " + cpu->dump() + " is missing from online_cpus");
        }
    }
    k.no_others();
    return out;
}

}  // namespace conformance::messaging
