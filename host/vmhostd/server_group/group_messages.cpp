#include "group_messages.h"

#include "gsdk/json_line.h"
#include "server_group_layer.h"

namespace vmhost::sg {

namespace {

namespace wire = gsdk::sgwire;

constexpr std::size_t kMaxQuotedType = 64;  // of a guest's msg_type, in a nack or a log line

}  // namespace

GuestMessage decode(const nlohmann::json& data) {
    auto type = data.find("msg_type");
    if (type == data.end() || !type->is_string()) return Refused{"", "msg_type missing or not a string"};
    std::string msg_type = gsdk::one_line(type->get<std::string>(), kMaxQuotedType);
    // Not a message of the facts, but a guest telling us it could not take ours.
    if (msg_type == "nack") {
        std::string log_msg;
        if (auto m = data.find("log_msg"); m != data.end() && m->is_string())
            log_msg = gsdk::one_line(m->get_ref<const std::string&>(), 256);
        return GuestNack{log_msg};
    }
    // The wire is the server-group part's (server-group/proto); the bounds are the host's.
    auto decoded = wire::decode_guest_message(data);
    if (auto* e = std::get_if<wire::LayerError>(&decoded)) {
        if (e->kind == wire::LayerError::Kind::UnknownType)
            return Refused{msg_type, "unknown msg_type \"" + msg_type + "\""};
        return Refused{msg_type, msg_type + ": " + e->detail};
    }
    const auto& message = std::get<wire::GuestGroupMessage>(decoded);
    if (auto* b = std::get_if<wire::OutgoingBroadcast>(&message)) {
        if (b->payload.size() > kMaxPayload)
            return Refused{msg_type, "broadcast data of " + std::to_string(b->payload.size()) +
                                         " bytes is over the limit of " + std::to_string(kMaxPayload)};
        return Broadcast{b->payload};
    }
    int64_t seq = std::get<wire::StatusQuery>(message).seq;
    if (seq < 0 || seq > kMaxSeq) return Refused{msg_type, "status_query seq is not an integer from 0 to 2^53-1"};
    return StatusQuery{seq};
}

nlohmann::json broadcast(const std::string& source_instance, const std::string& payload) {
    return wire::encode_host_message(wire::GroupBroadcast{source_instance, payload});
}

nlohmann::json notification(const nlohmann::json& member_change) { return wire::encode_notification(member_change); }

nlohmann::json status_response(int64_t seq, const nlohmann::json& member_status) {
    return wire::encode_status_response(seq, member_status);
}

nlohmann::json status_response_done(int64_t seq) { return wire::encode_host_message(wire::StatusResponseDone{seq}); }

nlohmann::json nack(const std::string& log_msg, const std::string& orig_msg_type) {
    return wire::encode_host_message(
        wire::HostNack{gsdk::one_line(log_msg, 256), gsdk::one_line(orig_msg_type, kMaxQuotedType)});
}

}  // namespace vmhost::sg
