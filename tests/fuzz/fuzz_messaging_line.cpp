// libFuzzer target: vmhostd's end of cgcs.messaging. Arbitrary bytes, cut
// into arbitrary chunks, go through the line splitter, the envelope decoder
// and the server-group decoder, as a guest's lines do. Whatever is accepted
// is relayed byte-exact (encode, parse, same payload); whatever is refused
// makes a nack that is one valid JSON line. The port reads and writes with
// the quick JSON reader and writer: every line must read as nlohmann reads
// it, and every line the relay writes must be the bytes nlohmann writes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gsdk/json_line.h"
#include "json_exact.h"
#include "messaging_port.h"
#include "server_group/group_messages.h"

namespace {

// What encode_envelope() wrote before there was a quick writer.
std::string nlohmann_line(const vmhost::Envelope& e) {
    nlohmann::json line = {
        {"version", 2}, {"source_addr", e.source_addr}, {"dest_addr", e.dest_addr}, {"data", e.data}};
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string encoded(const vmhost::Envelope& e) {
    std::string line = vmhost::encode_envelope(e);
    if (line != nlohmann_line(e)) __builtin_trap();
    return line;
}

nlohmann::json reparsed(const std::string& line) {
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) __builtin_trap();
    auto again = gsdk::parse_json_object(std::string_view(line).substr(0, line.size() - 1), nullptr);
    if (!again) __builtin_trap();
    return *again;
}

void check_line(std::string_view line) {
    if (line.size() > vmhost::kMaxMessagingLine) return;  // refused unread by the port
    auto object = gsdk::parse_json_object(line, nullptr);
    nlohmann::json full = nlohmann::json::parse(line, nullptr, false);
    if (object.has_value() != (!full.is_discarded() && full.is_object())) __builtin_trap();
    if (object && !gsdk::test::same_json(*object, full)) __builtin_trap();
    if (!object) return;
    vmhost::Envelope envelope;
    std::string reason, msg_type;
    if (!vmhost::decode_envelope(*object, &envelope, &reason, &msg_type)) {
        reparsed(encoded({"cgcs.server_grp", "cgcs.server_grp", vmhost::sg::nack(reason, msg_type)}));
        return;
    }
    auto message = vmhost::sg::decode(envelope.data);
    if (auto* b = std::get_if<vmhost::sg::Broadcast>(&message)) {
        if (b->payload.size() > vmhost::sg::kMaxPayload) __builtin_trap();
        auto out = reparsed(encoded({"cgcs.server_grp", "cgcs.server_grp", vmhost::sg::broadcast("vm-1", b->payload)}));
        if (out["data"]["data"].get<std::string>() != b->payload) __builtin_trap();
    } else if (auto* r = std::get_if<vmhost::sg::Refused>(&message)) {
        reparsed(encoded({"cgcs.server_grp", "cgcs.server_grp", vmhost::sg::nack(r->reason, r->msg_type)}));
    } else if (auto* q = std::get_if<vmhost::sg::StatusQuery>(&message)) {
        if (q->seq < 0 || q->seq > vmhost::sg::kMaxSeq) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    // The first byte picks the chunk size, so splits land everywhere.
    std::size_t chunk = 1 + data[0] % 64;
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    gsdk::LineSplitter splitter(2 * vmhost::kMaxMessagingLine);
    while (!rest.empty()) {
        std::size_t n = std::min(chunk, rest.size());
        splitter.feed(rest.substr(0, n), check_line, [](std::size_t) {});
        rest.remove_prefix(n);
    }
    return 0;
}
