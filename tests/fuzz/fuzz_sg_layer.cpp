// libFuzzer target: the server-group layer. Each input is the `data` object
// of an envelope to cgcs.server_grp; it goes to server-groupd's core as a
// host line (status rounds, broadcasts and notifications to the members
// keep their state across inputs) and is decoded directly, where whatever
// decodes must encode and decode to the same message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server_group_layer.h"
#include "sg_daemon_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto& h = gsdk::sg::fuzz::harness();
    std::string text(reinterpret_cast<const char*>(data), size);
    auto object = nlohmann::json::parse(text, nullptr, false);
    if (object.is_discarded()) return 0;
    auto decoded = gsdk::sgwire::decode_host_message(object);
    if (auto* m = std::get_if<gsdk::sgwire::HostGroupMessage>(&decoded)) {
        auto once = gsdk::sgwire::encode_host_message(*m);
        auto again = gsdk::sgwire::decode_host_message(once);
        auto* m2 = std::get_if<gsdk::sgwire::HostGroupMessage>(&again);
        if (!m2 || m2->index() != m->index() || gsdk::sgwire::encode_host_message(*m2) != once) __builtin_trap();
    }
    gsdk::sgwire::decode_guest_message(object);
    // The first member of a status answer makes the daemon ask the host first.
    static bool asked = false;
    if (!asked) {
        const char query[] = "\x1a\x02\x08\x01";  // ClientMessage{status_query{query_id: 1}}
        gsdk::seqpacket_send(h.reading_member, query, sizeof query - 1);
        h.settle();
        asked = true;
    }
    // Read without value(): a msg_type of another type must not throw here.
    if (object.is_object()) {
        auto type = object.find("msg_type");
        if (type != object.end() && type->is_string() && *type == "status_response_done") asked = false;
    }
    nlohmann::json envelope = {
        {"version", 2}, {"source_addr", "cgcs.server_grp"}, {"dest_addr", "cgcs.server_grp"}, {"data", object}};
    std::string line = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    h.from_host(line.data(), line.size());
    return 0;
}
