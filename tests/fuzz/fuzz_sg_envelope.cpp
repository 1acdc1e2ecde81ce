// libFuzzer target: the messaging port reader. Arbitrary bytes, cut into
// arbitrary chunks, reach server-groupd's core as the host's stream (line
// splitting, envelope v2, routing by address, the server-group layer, fan
// out to members); partial lines carry over to the next input. Every line
// that decodes as an envelope must re-encode and decode to the same one,
// and every line must decode as it does through nlohmann's parser alone (the
// same envelope, or the same refusal in the same words): the quick reader
// changes nothing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gsdk/json_line.h"
#include "json_exact.h"
#include "messaging_envelope.h"
#include "server_group_limits.h"
#include "sg_daemon_harness.h"

namespace {

using namespace gsdk::sgwire;

// What parse_envelope() gave before there was a quick reader.
DecodedEnvelope through_nlohmann(std::string_view line) {
    nlohmann::json full = nlohmann::json::parse(line, nullptr, false);
    if (full.is_discarded()) return EnvelopeError{"not valid JSON"};
    if (!full.is_object()) return EnvelopeError{"JSON value is not an object"};
    return decode_envelope(full, Origin::Host);
}

void check_same_as_nlohmann(std::string_view line, const DecodedEnvelope& decoded) {
    auto expected = through_nlohmann(line);
    if (decoded.index() != expected.index()) __builtin_trap();
    if (auto* e = std::get_if<EnvelopeError>(&decoded)) {
        if (e->detail != std::get<EnvelopeError>(expected).detail) __builtin_trap();
        return;
    }
    const auto& a = std::get<Envelope>(decoded);
    const auto& b = std::get<Envelope>(expected);
    if (a.source_addr != b.source_addr || a.dest_addr != b.dest_addr || !gsdk::test::same_json(a.data, b.data))
        __builtin_trap();
}

void check_round_trip(std::string_view line) {
    auto decoded = gsdk::sgwire::parse_envelope(line, gsdk::sgwire::Origin::Host);
    check_same_as_nlohmann(line, decoded);
    auto* e = std::get_if<gsdk::sgwire::Envelope>(&decoded);
    if (!e) return;
    std::string once = gsdk::sgwire::encode_envelope_line(*e);
    auto again =
        gsdk::sgwire::parse_envelope(std::string_view(once).substr(1, once.size() - 2), gsdk::sgwire::Origin::Host);
    auto* e2 = std::get_if<gsdk::sgwire::Envelope>(&again);
    if (!e2 || gsdk::sgwire::encode_envelope_line(*e2) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    auto& h = gsdk::sg::fuzz::harness();
    std::size_t chunk = 1 + data[0] % 64;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    gsdk::LineSplitter splitter{gsdk::sg::kMaxHostLine};
    splitter.feed(rest, check_round_trip, [](std::size_t) {});
    while (!rest.empty()) {
        std::size_t n = std::min(chunk, rest.size());
        h.from_host(rest.data(), n);
        rest.remove_prefix(n);
    }
    return 0;
}
