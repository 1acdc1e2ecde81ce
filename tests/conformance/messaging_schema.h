// The cgcs.messaging protocols as a schema, written from
// docs/protocols/messaging.md: envelope v2, the server-group layer and the
// scaling layer. A reusable test helper: check a line (or the inner data of
// one service) that our encoders produce, or that a host sent.
//
//   auto problems = conformance::messaging::check_line(j, Direction::GuestToHost);
//   EXPECT_TRUE(problems.empty()) << problems.front();
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace conformance::messaging {

enum class Direction { GuestToHost, HostToGuest };

inline constexpr const char* kServerGroupAddress = "cgcs.server_grp";
inline constexpr const char* kScaleAddress = "cgcs.scale";
inline constexpr std::size_t kMaxBroadcastBytes = 3050;

// A whole line on the port (an envelope), with its data checked by the layer
// of the guest service it is addressed from (GuestToHost: source_addr) or to
// (HostToGuest: dest_addr). Empty = conforms.
std::vector<std::string> check_line(const nlohmann::json& line, Direction direction);

// What a local service hands the relay: the envelope without source_addr
// (docs/protocols/messaging.md#relaying), data checked as GuestToHost.
std::vector<std::string> check_service_request(const nlohmann::json& envelope, const std::string& local_address);

// The data of one layer.
std::vector<std::string> check_server_group_data(const nlohmann::json& data, Direction direction);
std::vector<std::string> check_scale_data(const nlohmann::json& data, Direction direction);

// A host-side scaling address: "scale-" and 8 hex digits.
bool is_host_scale_address(const std::string& address);

}  // namespace conformance::messaging
