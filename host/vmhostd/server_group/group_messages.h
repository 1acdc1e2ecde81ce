// The server-group layer inside a messaging envelope's `data`, host end
// (docs/vmhost.md "Server groups"): what a guest may ask (broadcast,
// status_query) and what the host sends (broadcast, notification,
// status_response, status_response_done, nack). Decoding never throws and
// bounds everything a guest sends.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace vmhost::sg {

// The host's (and the guest service's) address on the messaging port.
inline constexpr std::string_view kAddress = "cgcs.server_grp";
// The API's limit on a broadcast payload (MAX_MSG_DATA_LEN), in bytes of UTF-8.
inline constexpr std::size_t kMaxPayload = 3050;
// seq is echoed, never used as a size or an index; it must still be an
// integer a JSON reader anywhere keeps exactly.
inline constexpr int64_t kMaxSeq = (int64_t{1} << 53) - 1;

struct Broadcast {
    std::string payload;
};
struct StatusQuery {
    int64_t seq = 0;
};
// A guest telling the host it could not take one of our messages: logged,
// never answered (a nack for a nack could ping-pong).
struct GuestNack {
    std::string log_msg;
};
// Not acceptable: answered with a nack carrying `reason`.
struct Refused {
    std::string msg_type;  // the guest's msg_type, when it had one
    std::string reason;
};
using GuestMessage = std::variant<Broadcast, StatusQuery, GuestNack, Refused>;

GuestMessage decode(const nlohmann::json& data);

// Host -> guest `data` objects. The inner version is a proper 2 (the real
// host sends the string "version" on broadcasts; guests accept both).
nlohmann::json broadcast(const std::string& source_instance, const std::string& payload);
nlohmann::json notification(const nlohmann::json& member_change);
nlohmann::json status_response(int64_t seq, const nlohmann::json& member_status);
nlohmann::json status_response_done(int64_t seq);
// orig_msg_type is left out when empty.
nlohmann::json nack(const std::string& log_msg, const std::string& orig_msg_type);

}  // namespace vmhost::sg
