#include "scale_layer.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace gsdk::scalewire {

namespace {

using nlohmann::json;

// An integer CPU number below kMaxCpus; JSON's 3.0 is not a CPU.
bool cpu_number(const json& v, unsigned* out) {
    if (!v.is_number_integer()) return false;
    if (v.is_number_unsigned()) {
        auto n = v.get<uint64_t>();
        if (n >= kMaxCpus) return false;
        *out = static_cast<unsigned>(n);
        return true;
    }
    auto n = v.get<int64_t>();
    if (n < 0 || n >= kMaxCpus) return false;
    *out = static_cast<unsigned>(n);
    return true;
}

// An array of distinct CPU numbers, returned ascending.
bool cpu_array(const json& v, std::vector<unsigned>* out) {
    if (!v.is_array() || v.size() > kMaxCpus) return false;
    out->clear();
    for (const auto& e : v) {
        unsigned cpu;
        if (!cpu_number(e, &cpu)) return false;
        out->push_back(cpu);
    }
    std::sort(out->begin(), out->end());
    return std::adjacent_find(out->begin(), out->end()) == out->end();
}

std::optional<Direction> direction_of(const json& data) {
    auto it = data.find("direction");
    if (it == data.end() || !it->is_string()) return std::nullopt;
    if (*it == "up") return Direction::Up;
    if (*it == "down") return Direction::Down;
    return std::nullopt;
}

}  // namespace

const char* to_string(Direction d) { return d == Direction::Up ? "up" : "down"; }

std::variant<ScaleRequest, RequestRefusal> decode_request(const json& data) {
    auto direction = direction_of(data);
    auto refuse = [&](std::string why) { return RequestRefusal{std::move(why), direction}; };
    if (!data.is_object()) return refuse("the request is not a JSON object");
    auto type = data.find("msg_type");
    if (type == data.end() || !type->is_string()) return refuse("msg_type missing or not a string");
    if (*type != "scale_request") return refuse("unknown msg_type (expected scale_request)");
    auto version = data.find("version");
    if (version == data.end() || !version->is_number_integer() || version->get<int64_t>() != 2)
        return refuse("version missing or not 2");
    auto resource = data.find("resource");
    if (resource == data.end() || !resource->is_string()) return refuse("resource missing or not a string");
    if (*resource != "cpu") return refuse("resource is not cpu (the only one this guest scales)");
    if (!direction) return refuse("direction missing or not up or down");
    auto timeout = data.find("timeout_ms");
    if (timeout == data.end() || !timeout->is_number_integer()) return refuse("timeout_ms missing or not an integer");
    if (timeout->is_number_unsigned() ? timeout->get<uint64_t>() > static_cast<uint64_t>(kMaxTimeoutMs)
                                      : (timeout->get<int64_t>() < 1 || timeout->get<int64_t>() > kMaxTimeoutMs))
        return refuse("timeout_ms is not between 1 and " + std::to_string(kMaxTimeoutMs));
    ScaleRequest r;
    r.direction = *direction;
    r.timeout_ms = timeout->get<int64_t>();
    if (r.timeout_ms < 1) return refuse("timeout_ms is not between 1 and " + std::to_string(kMaxTimeoutMs));
    if (r.direction == Direction::Up) {
        auto cpu = data.find("online_cpu");
        if (cpu == data.end() || !cpu_number(*cpu, &r.online_cpu))
            return refuse("online_cpu missing or not a CPU number below " + std::to_string(kMaxCpus));
        auto cpus = data.find("online_cpus");
        if (cpus == data.end() || !cpu_array(*cpus, &r.online_cpus))
            return refuse("online_cpus missing or not an array of distinct CPU numbers");
    }
    return r;
}

json encode_request(const ScaleRequest& r) {
    json data = {{"version", 2},
                 {"msg_type", "scale_request"},
                 {"timeout_ms", r.timeout_ms},
                 {"resource", "cpu"},
                 {"direction", to_string(r.direction)}};
    if (r.direction == Direction::Up) {
        data["online_cpu"] = r.online_cpu;
        data["online_cpus"] = r.online_cpus;
    }
    return data;
}

json encode_response(const ScaleResponse& r) {
    json data = {{"version", 2}, {"resource", "cpu"}, {"result", r.success ? "success" : "fail"}};
    if (r.direction) data["direction"] = to_string(*r.direction);
    if (!r.success) {
        data["err_msg"] = r.err_msg.substr(0, kMaxErrMsg);
        return data;
    }
    data[r.direction == Direction::Up ? "online_cpu" : "offline_cpu"] = r.cpu;
    data["online_cpus"] = r.online_cpus;
    return data;
}

std::variant<ScaleResponse, std::string> decode_response(const json& data) {
    if (!data.is_object()) return std::string("not a JSON object");
    ScaleResponse r;
    r.direction = direction_of(data);
    if (!r.direction) return std::string("direction missing or not up or down");
    auto result = data.find("result");
    if (result == data.end() || !result->is_string() || (*result != "success" && *result != "fail"))
        return std::string("result missing or not success or fail");
    r.success = *result == "success";
    if (!r.success) {
        auto msg = data.find("err_msg");
        r.err_msg = msg != data.end() && msg->is_string() ? msg->get<std::string>().substr(0, kMaxErrMsg)
                                                          : std::string("(no err_msg)");
        return r;
    }
    const char* key = *r.direction == Direction::Up ? "online_cpu" : "offline_cpu";
    auto cpu = data.find(key);
    if (cpu == data.end() || !cpu_number(*cpu, &r.cpu)) return std::string(key) + " missing or not a CPU number";
    auto cpus = data.find("online_cpus");
    if (cpus == data.end() || !cpu_array(*cpus, &r.online_cpus))
        return std::string("online_cpus missing or not an array of distinct CPU numbers");
    return r;
}

std::string host_address(uint32_t number) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "scale-%08x", number);
    return buf;
}

bool is_host_address(std::string_view a) {
    return a.size() == 14 && a.substr(0, 6) == "scale-" &&
           std::all_of(a.begin() + 6, a.end(), [](unsigned char c) { return std::isxdigit(c); });
}

}  // namespace gsdk::scalewire
