// Envelope version 2 on cgcs.messaging (docs/server-group.md, "Wire"): the
// one statement of it, used by server-groupd, the tests and any host end.
//   host -> guest: {"version":2,"source_addr":S,"dest_addr":D,"data":{...}}
//   guest -> host: the same; the relay adds source_addr to what a local
//                  service (or the original library's datagram) gave it.
// `data` is a nested object, never a string holding JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace gsdk::sgwire {

inline constexpr int kEnvelopeVersion = 2;

struct Envelope {
    std::string source_addr;
    std::string dest_addr;
    nlohmann::json data = nlohmann::json::object();
};

// Who wrote what is being decoded: a host line names both addresses; a
// local sender (the original library's datagram) names only dest_addr.
enum class Origin { Host, LocalSender };

struct EnvelopeError {
    std::string detail;
};
using DecodedEnvelope = std::variant<Envelope, EnvelopeError>;

// 1..16 bytes of printable ASCII other than quote and backslash.
bool valid_address(std::string_view address);

DecodedEnvelope decode_envelope(const nlohmann::json& object, Origin origin);
// Parses one line (or datagram) and decodes it.
DecodedEnvelope parse_envelope(std::string_view text, Origin origin);

// The host-bound object with all four keys.
nlohmann::json encode_envelope(const Envelope& envelope);
// encode_envelope() framed "\n{...}\n", as our senders write lines.
std::string encode_envelope_line(const Envelope& envelope);
// What the original library expects in a datagram from its agent:
// {"data":{...},"version":2,"source_addr":S}, one JSON text, no newline.
std::string encode_for_legacy_library(const std::string& source_addr, const nlohmann::json& data);

}  // namespace gsdk::sgwire
