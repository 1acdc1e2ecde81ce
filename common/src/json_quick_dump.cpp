// The quick writer of gsdk/json_quick.h: nlohmann's compact form (no
// spaces, keys in the object's order, UTF-8 kept as it is, only quote,
// backslash and control characters escaped), with a string's plain bytes
// copied a run at a time.
#include <charconv>

#include "gsdk/json_quick.h"
#include "gsdk/utf8_sequence.h"
#include "json_plain_run.h"

namespace gsdk {

namespace {

using nlohmann::json;

bool dump_string(const std::string& s, std::string* out) {
    static constexpr char kHex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    out->push_back('"');
    while (p != end) {
        const unsigned char* run = p;
        p = detail::plain_run_end(p, end);
        out->append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p - run));
        if (p == end) break;
        unsigned char c = *p;
        if (c >= 0x80) {
            std::size_t n = detail::utf8_sequence_length(p, end);
            if (n == 0) return false;  // nlohmann replaces it: its rules, not ours
            out->append(reinterpret_cast<const char*>(p), n);
            p += n;
            continue;
        }
        ++p;
        out->push_back('\\');
        if (char letter = detail::kEscapeLetter[c]) {
            out->push_back(letter);
            continue;
        }
        // The other control characters, as nlohmann writes them.
        out->append("u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
    out->push_back('"');
    return true;
}

template <typename Integer>
void dump_integer(Integer v, std::string* out) {
    char buf[24];
    auto result = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, result.ptr);
}

bool dump_value(const json& v, std::string* out) {
    switch (v.type()) {
    case json::value_t::object: {
        out->push_back('{');
        bool first = true;
        for (const auto& [key, member] : v.get_ref<const json::object_t&>()) {
            if (!first) out->push_back(',');
            first = false;
            if (!dump_string(key, out)) return false;
            out->push_back(':');
            if (!dump_value(member, out)) return false;
        }
        out->push_back('}');
        return true;
    }
    case json::value_t::array: {
        out->push_back('[');
        bool first = true;
        for (const auto& element : v.get_ref<const json::array_t&>()) {
            if (!first) out->push_back(',');
            first = false;
            if (!dump_value(element, out)) return false;
        }
        out->push_back(']');
        return true;
    }
    case json::value_t::string:
        return dump_string(v.get_ref<const std::string&>(), out);
    case json::value_t::number_integer:
        dump_integer(v.get<json::number_integer_t>(), out);
        return true;
    case json::value_t::number_unsigned:
        dump_integer(v.get<json::number_unsigned_t>(), out);
        return true;
    case json::value_t::boolean:
        out->append(v.get<bool>() ? "true" : "false");
        return true;
    case json::value_t::null:
        out->append("null");
        return true;
    case json::value_t::number_float:  // nlohmann's float formatting is its own
        out->append(v.dump());
        return true;
    default:  // binary, discarded
        return false;
    }
}

}  // namespace

bool quick_dump(const json& value, std::string* out) {
    std::size_t before = out->size();
    if (dump_value(value, out)) return true;
    out->resize(before);
    return false;
}

std::string dump_compact(const json& value) {
    std::string out;
    if (quick_dump(value, &out)) return out;
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace gsdk
