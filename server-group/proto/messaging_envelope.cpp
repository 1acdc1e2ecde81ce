#include "messaging_envelope.h"

#include "gsdk/json_line.h"
#include "gsdk/json_quick.h"

namespace gsdk::sgwire {

namespace {

using nlohmann::json;

// Addresses end up in logs and in abstract socket names: keep them plain.
bool address_char(char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; }

bool read_address(const json& object, const char* key, std::string* out, std::string* why) {
    auto it = object.find(key);
    if (it == object.end()) {
        *why = std::string("no ") + key;
        return false;
    }
    if (!it->is_string()) {
        *why = std::string(key) + " is not a string";
        return false;
    }
    const std::string& value = it->get_ref<const std::string&>();
    if (!valid_address(value)) {
        *why = std::string(key) + " is not an address of 1 to 16 plain characters";
        return false;
    }
    *out = value;
    return true;
}

}  // namespace

bool valid_address(std::string_view address) {
    if (address.empty() || address.size() > 16) return false;
    for (char c : address)
        if (!address_char(c)) return false;
    return true;
}

DecodedEnvelope decode_envelope(const json& object, Origin origin) {
    if (!object.is_object()) return EnvelopeError{"not a JSON object"};
    auto version = object.find("version");
    if (version == object.end()) return EnvelopeError{"no version"};
    if (!version->is_number_integer() || version->get<int64_t>() != kEnvelopeVersion)
        return EnvelopeError{"envelope version " + version->dump() + " is not 2"};
    Envelope e;
    std::string why;
    if (!read_address(object, "dest_addr", &e.dest_addr, &why)) return EnvelopeError{why};
    if (origin == Origin::Host && !read_address(object, "source_addr", &e.source_addr, &why)) return EnvelopeError{why};
    auto data = object.find("data");
    if (data == object.end()) return EnvelopeError{"no data"};
    if (!data->is_object()) return EnvelopeError{"data is not a JSON object"};
    e.data = *data;
    return e;
}

DecodedEnvelope parse_envelope(std::string_view text, Origin origin) {
    std::string error;
    auto object = parse_json_object(text, &error);
    if (!object) return EnvelopeError{error};
    return decode_envelope(*object, origin);
}

json encode_envelope(const Envelope& e) {
    return json{
        {"version", kEnvelopeVersion}, {"source_addr", e.source_addr}, {"dest_addr", e.dest_addr}, {"data", e.data}};
}

std::string encode_envelope_line(const Envelope& e) { return frame_json_line(encode_envelope(e)); }

std::string encode_for_legacy_library(const std::string& source_addr, const json& data) {
    json object{{"data", data}, {"version", kEnvelopeVersion}, {"source_addr", source_addr}};
    return gsdk::dump_compact(object);
}

}  // namespace gsdk::sgwire
