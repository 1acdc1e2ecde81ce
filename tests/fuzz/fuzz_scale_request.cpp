// The scaling layer's decoders (guest-scale/proto/scale_layer.h) and the
// offline_cpuset parser on arbitrary bytes: whatever a host or metadata
// service sends, decoding ends in a request or a refusal, a response or a
// reason, a CPU set or a reason; a decoded value re-encodes and decodes the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cpu_set_text.h"
#include "scale_layer.h"

using namespace gsdk::scalewire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string why;
    if (auto cpus = parse_cpu_set(text, &why)) {
        for (unsigned cpu : *cpus)
            if (cpu >= kMaxCpus) std::abort();
        auto again = parse_cpu_set(std::string_view(legacy_set_text(*cpus)), &why);
        if (!again || *again != *cpus) std::abort();
    }
    auto json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded()) return 0;
    auto request = decode_request(json);
    if (auto* r = std::get_if<ScaleRequest>(&request)) {
        if (r->timeout_ms < 0 || r->timeout_ms > kMaxTimeoutMs) std::abort();
        if (r->direction == Direction::Up && r->online_cpu >= kMaxCpus) std::abort();
        auto again = decode_request(encode_request(*r));
        auto* r2 = std::get_if<ScaleRequest>(&again);
        if (!r2 || r2->direction != r->direction || r2->online_cpu != r->online_cpu) std::abort();
    }
    auto response = decode_response(json);
    if (auto* r = std::get_if<ScaleResponse>(&response)) {
        if (r->success && r->cpu >= kMaxCpus) std::abort();
        (void)encode_response(*r);
    }
    return 0;
}
