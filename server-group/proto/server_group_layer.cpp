#include "server_group_layer.h"

#include "gsdk/json_quick.h"
#include "server_group_limits.h"

namespace gsdk::sgwire {

namespace {

using nlohmann::json;

std::string text_of(const json& value) {
    if (value.is_string()) return value.get<std::string>();
    return gsdk::dump_compact(value);
}

// The JSON a text holds, or the text itself as a string.
json object_or_text(const std::string& text) {
    json parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? json(text) : parsed;
}

LayerError malformed(const std::string& type, const std::string& detail) {
    return LayerError{LayerError::Kind::Malformed, type, detail};
}

bool read_seq(const json& data, int64_t* out) {
    auto it = data.find("seq");
    if (it == data.end() || !it->is_number_integer()) return false;
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = it->get<int64_t>();
    return true;
}

}  // namespace

DecodedHostMessage decode_host_message(const json& data) {
    if (!data.is_object()) return malformed("", "data is not a JSON object");
    auto type_it = data.find("msg_type");
    if (type_it == data.end() || !type_it->is_string()) return malformed("", "no msg_type string");
    const std::string type = type_it->get<std::string>();
    auto payload = data.find("data");

    if (type == "broadcast") {
        auto source = data.find("source_instance");
        if (source == data.end() || !source->is_string()) return malformed(type, "no source_instance string");
        if (source->get_ref<const std::string&>().size() > sg::kMaxInstanceName)
            return malformed(type, "source_instance longer than 255 bytes");
        if (payload == data.end()) return malformed(type, "no data");
        return HostGroupMessage{GroupBroadcast{source->get<std::string>(), text_of(*payload)}};
    }
    if (type == "notification") {
        if (payload == data.end()) return malformed(type, "no data");
        return HostGroupMessage{GroupNotification{text_of(*payload)}};
    }
    if (type == "status_response") {
        StatusResponse r;
        if (!read_seq(data, &r.seq)) return malformed(type, "no integer seq");
        if (payload == data.end()) return malformed(type, "no data");
        // Always JSON text: each member is an element of the answer array.
        r.member_json = gsdk::dump_compact(*payload);
        return HostGroupMessage{r};
    }
    if (type == "status_response_done") {
        StatusResponseDone d;
        if (!read_seq(data, &d.seq)) return malformed(type, "no integer seq");
        return HostGroupMessage{d};
    }
    if (type == "nack") {
        HostNack n;
        if (auto it = data.find("log_msg"); it != data.end() && it->is_string()) n.log_msg = it->get<std::string>();
        if (auto it = data.find("orig_msg_type"); it != data.end() && it->is_string())
            n.orig_msg_type = it->get<std::string>();
        return HostGroupMessage{n};
    }
    return LayerError{LayerError::Kind::UnknownType, type, "unknown msg_type"};
}

DecodedGuestMessage decode_guest_message(const json& data) {
    if (!data.is_object()) return malformed("", "data is not a JSON object");
    auto type_it = data.find("msg_type");
    if (type_it == data.end() || !type_it->is_string()) return malformed("", "no msg_type string");
    const std::string type = type_it->get<std::string>();
    if (type == "broadcast") {
        auto payload = data.find("data");
        if (payload == data.end()) return malformed(type, "no data");
        if (!payload->is_string()) return malformed(type, "data is not a string");
        return GuestGroupMessage{OutgoingBroadcast{payload->get<std::string>()}};
    }
    if (type == "status_query") {
        StatusQuery q;
        if (!read_seq(data, &q.seq)) return malformed(type, "no integer seq");
        return GuestGroupMessage{q};
    }
    return LayerError{LayerError::Kind::UnknownType, type, "not a message a guest sends"};
}

json encode_guest_message(const GuestGroupMessage& message) {
    if (auto* b = std::get_if<OutgoingBroadcast>(&message))
        return json{{"version", kLayerVersion}, {"msg_type", "broadcast"}, {"data", b->payload}};
    const auto& q = std::get<StatusQuery>(message);
    return json{{"version", kLayerVersion}, {"msg_type", "status_query"}, {"seq", q.seq}};
}

json encode_host_message(const HostGroupMessage& message) {
    json out{{"version", kLayerVersion}, {"msg_type", msg_type_of(message)}};
    std::visit(
        [&out](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, GroupBroadcast>) {
                out["source_instance"] = m.source_instance;
                out["data"] = m.payload;
            } else if constexpr (std::is_same_v<T, GroupNotification>) {
                out = encode_notification(object_or_text(m.text));
            } else if constexpr (std::is_same_v<T, StatusResponse>) {
                out = encode_status_response(m.seq, object_or_text(m.member_json));
            } else if constexpr (std::is_same_v<T, StatusResponseDone>) {
                out["seq"] = m.seq;
            } else {
                out["log_msg"] = m.log_msg;
                if (!m.orig_msg_type.empty()) out["orig_msg_type"] = m.orig_msg_type;
            }
        },
        message);
    return out;
}

json encode_notification(const json& member_change) {
    return json{{"version", kLayerVersion}, {"msg_type", "notification"}, {"data", member_change}};
}

json encode_status_response(int64_t seq, const json& member_status) {
    return json{{"version", kLayerVersion}, {"msg_type", "status_response"}, {"seq", seq}, {"data", member_status}};
}

const char* msg_type_of(const HostGroupMessage& message) {
    static const char* const names[] = {"broadcast", "notification", "status_response", "status_response_done", "nack"};
    return names[message.index()];
}

const char* msg_type_of(const GuestGroupMessage& message) {
    return std::holds_alternative<OutgoingBroadcast>(message) ? "broadcast" : "status_query";
}

}  // namespace gsdk::sgwire
