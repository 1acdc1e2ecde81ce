#include "group_messages.h"

#include "gsdk/json_line.h"

namespace vmhost::sg {

namespace {
constexpr std::size_t kMaxQuotedType = 64;  // of a guest's msg_type, in a nack or a log line
}

GuestMessage decode(const nlohmann::json& data) {
    auto type = data.find("msg_type");
    if (type == data.end() || !type->is_string()) return Refused{"", "msg_type missing or not a string"};
    std::string msg_type = gsdk::one_line(type->get<std::string>(), kMaxQuotedType);
    // The inner version is not checked: the real host itself sends a broken one.
    if (msg_type == "broadcast") {
        auto payload = data.find("data");
        if (payload == data.end()) return Refused{msg_type, "broadcast without data"};
        if (!payload->is_string()) return Refused{msg_type, "broadcast data is not a string"};
        const auto& text = payload->get_ref<const std::string&>();
        if (text.size() > kMaxPayload)
            return Refused{msg_type, "broadcast data of " + std::to_string(text.size()) +
                                         " bytes is over the limit of " + std::to_string(kMaxPayload)};
        return Broadcast{text};
    }
    if (msg_type == "status_query") {
        auto seq = data.find("seq");
        if (seq == data.end()) return Refused{msg_type, "status_query without seq"};
        if (!seq->is_number_integer() || (seq->is_number_unsigned() && seq->get<uint64_t>() > uint64_t(kMaxSeq)) ||
            seq->get<int64_t>() < 0 || seq->get<int64_t>() > kMaxSeq)
            return Refused{msg_type, "status_query seq is not an integer from 0 to 2^53-1"};
        return StatusQuery{seq->get<int64_t>()};
    }
    if (msg_type == "nack") {
        std::string log_msg;
        if (auto m = data.find("log_msg"); m != data.end() && m->is_string())
            log_msg = gsdk::one_line(m->get_ref<const std::string&>(), 256);
        return GuestNack{log_msg};
    }
    return Refused{msg_type, "unknown msg_type \"" + msg_type + "\""};
}

nlohmann::json broadcast(const std::string& source_instance, const std::string& payload) {
    return {{"version", 2}, {"msg_type", "broadcast"}, {"source_instance", source_instance}, {"data", payload}};
}

nlohmann::json notification(const nlohmann::json& member_change) {
    return {{"version", 2}, {"msg_type", "notification"}, {"data", member_change}};
}

nlohmann::json status_response(int64_t seq, const nlohmann::json& member_status) {
    return {{"version", 2}, {"msg_type", "status_response"}, {"seq", seq}, {"data", member_status}};
}

nlohmann::json status_response_done(int64_t seq) {
    return {{"version", 2}, {"msg_type", "status_response_done"}, {"seq", seq}};
}

nlohmann::json nack(const std::string& log_msg, const std::string& orig_msg_type) {
    nlohmann::json n = {{"version", 2}, {"msg_type", "nack"}, {"log_msg", gsdk::one_line(log_msg, 256)}};
    if (!orig_msg_type.empty()) n["orig_msg_type"] = gsdk::one_line(orig_msg_type, kMaxQuotedType);
    return n;
}

}  // namespace vmhost::sg
