// libFuzzer target: the messaging port reader. Arbitrary bytes, cut into
// arbitrary chunks, reach server-groupd's core as the host's stream (line
// splitting, envelope v2, routing by address, the server-group layer, fan
// out to members); partial lines carry over to the next input. Every line
// that decodes as an envelope must re-encode and decode to the same one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gsdk/json_line.h"
#include "messaging_envelope.h"
#include "server_group_limits.h"
#include "sg_daemon_harness.h"

namespace {

void check_round_trip(std::string_view line) {
    auto decoded = gsdk::sgwire::parse_envelope(line, gsdk::sgwire::Origin::Host);
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
