// libFuzzer target: the host-port reader. Arbitrary bytes, cut into arbitrary
// chunks, go through the line splitter, the JSON parser and the heartbeat
// decoder; whatever decodes must re-encode and decode to the same message.
// Every line also cross-checks the quick JSON reader and writer against
// nlohmann's: the same value (types included) or a deferral, and the same
// bytes written, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gsdk/json_line.h"
#include "gsdk/json_quick.h"
#include "heartbeat_host_wire.h"
#include "json_exact.h"

namespace {

using nlohmann::json;

void check_dump(const json& value) {
    if (gsdk::dump_compact(value) != value.dump(-1, ' ', false, json::error_handler_t::replace)) __builtin_trap();
}

void check_quick(std::string_view line) {
    json full = json::parse(line, nullptr, false);
    if (auto quick = gsdk::quick_parse_object(line)) {
        // Whatever the quick reader decides, nlohmann decides the same way.
        if (full.is_discarded() || !gsdk::test::same_json(*quick, full)) __builtin_trap();
        check_dump(*quick);
    }
    if (!full.is_discarded()) check_dump(full);
    // The raw bytes as a string and as a key: escapes, UTF-8 valid or not.
    check_dump(json(std::string(line)));
    check_dump(json{{std::string(line), std::string(line)}});
}

void check_line(std::string_view line) {
    check_quick(line);
    auto object = gsdk::parse_json_object(line, nullptr);
    if (!object) return;
    auto decoded = gsdk::hbwire::decode(*object);
    if (auto* m = std::get_if<gsdk::hbwire::Message>(&decoded)) {
        std::string once = gsdk::hbwire::encode_line(*m);
        auto again = gsdk::parse_json_object(std::string_view(once).substr(1, once.size() - 2), nullptr);
        if (!again) __builtin_trap();
        auto redecoded = gsdk::hbwire::decode(*again);
        auto* m2 = std::get_if<gsdk::hbwire::Message>(&redecoded);
        if (!m2 || gsdk::hbwire::encode_line(*m2) != once) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    // The first byte picks the chunk size, so splits land everywhere.
    std::size_t chunk = 1 + data[0] % 64;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    gsdk::LineSplitter splitter(4096);
    while (!rest.empty()) {
        std::size_t n = std::min(chunk, rest.size());
        splitter.feed(rest.substr(0, n), check_line, [](std::size_t) {});
        rest.remove_prefix(n);
    }
    return 0;
}
