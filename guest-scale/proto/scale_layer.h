// The scaling layer of cgcs.messaging (docs/protocols/messaging.md "Scaling
// layer"): what travels inside `data` between the host's scale-XXXXXXXX
// address and the guest's cgcs.scale. One statement of it, used by
// guest-scaled (decode requests, encode responses), by vmhostd (the other
// way round) and by the tests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gsdk::scalewire {

inline constexpr const char* kGuestAddress = "cgcs.scale";
// CPU numbers above this are refused wherever they come from (Debian's
// kernels are built with NR_CPUS 8192).
inline constexpr unsigned kMaxCpus = 8192;
// timeout_ms the guest accepts from a host: the reference host sends 9000.
inline constexpr int64_t kMaxTimeoutMs = 600000;
// Longest err_msg we put on the wire.
inline constexpr std::size_t kMaxErrMsg = 256;

enum class Direction { Up, Down };
const char* to_string(Direction direction);

struct ScaleRequest {
    Direction direction = Direction::Down;
    int64_t timeout_ms = 9000;
    unsigned online_cpu = 0;            // up: the CPU to bring online
    std::vector<unsigned> online_cpus;  // up: what the host believes is online
};

// A request that cannot be served, and the direction to echo if it named one.
struct RequestRefusal {
    std::string reason;
    std::optional<Direction> direction;
};

std::variant<ScaleRequest, RequestRefusal> decode_request(const nlohmann::json& data);
nlohmann::json encode_request(const ScaleRequest& request);

struct ScaleResponse {
    // Absent only when the request named no direction we know (then a
    // failure): the wire has no value meaning "unknown".
    std::optional<Direction> direction;
    bool success = false;
    unsigned cpu = 0;  // success: offline_cpu (down) or online_cpu (up)
    std::vector<unsigned> online_cpus;
    std::string err_msg;  // failure
};

nlohmann::json encode_response(const ScaleResponse& response);
// Host side: a guest's response, or why it is not one.
std::variant<ScaleResponse, std::string> decode_response(const nlohmann::json& data);

// "scale-" and 8 hex digits: the host's requester addresses.
std::string host_address(uint32_t number);
bool is_host_address(std::string_view address);

}  // namespace gsdk::scalewire
