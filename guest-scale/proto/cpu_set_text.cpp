#include "cpu_set_text.h"

#include <algorithm>

#include "scale_layer.h"

namespace gsdk::scalewire {

namespace {

std::string_view trimmed(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<std::vector<unsigned>> from_array(const nlohmann::json& array, std::string* why) {
    if (!array.is_array()) {
        *why = "not a list";
        return std::nullopt;
    }
    if (array.size() > kMaxCpus) {
        *why = "more than " + std::to_string(kMaxCpus) + " entries";
        return std::nullopt;
    }
    std::vector<unsigned> out;
    for (const auto& e : array) {
        bool ok =
            e.is_number_integer() && (e.is_number_unsigned() ? e.get<uint64_t>() < kMaxCpus
                                                             : e.get<int64_t>() >= 0 && e.get<int64_t>() < kMaxCpus);
        if (!ok) {
            *why = "entry " + e.dump().substr(0, 32) + " is not a CPU number below " + std::to_string(kMaxCpus);
            return std::nullopt;
        }
        out.push_back(static_cast<unsigned>(e.get<uint64_t>()));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

std::optional<std::vector<unsigned>> parse_cpu_set(std::string_view text, std::string* why) {
    std::string_view s = trimmed(text);
    if (s.size() > 64 * 1024) {
        *why = "longer than 64 KiB";
        return std::nullopt;
    }
    if (s.substr(0, 4) == "set(" && s.size() >= 5 && s.back() == ')') {
        s = trimmed(s.substr(4, s.size() - 5));
        if (s.empty()) return std::vector<unsigned>{};
        if (s.front() != '[') {
            *why = "set(...) does not hold a [list]";
            return std::nullopt;
        }
    }
    auto array = nlohmann::json::parse(s, nullptr, false);
    if (array.is_discarded()) {
        *why = "neither set([...]) nor a JSON list";
        return std::nullopt;
    }
    return from_array(array, why);
}

std::optional<std::vector<unsigned>> parse_cpu_set(const nlohmann::json& value, std::string* why) {
    if (value.is_string()) return parse_cpu_set(std::string_view(value.get_ref<const std::string&>()), why);
    return from_array(value, why);
}

std::string cpu_array_text(const std::vector<unsigned>& cpus) { return nlohmann::json(cpus).dump(); }

std::string legacy_set_text(const std::vector<unsigned>& cpus) {
    if (cpus.empty()) return "set()";
    std::string s = "set([";
    for (std::size_t i = 0; i < cpus.size(); ++i) s += (i ? ", " : "") + std::to_string(cpus[i]);
    return s + "])";
}

}  // namespace gsdk::scalewire
