#include "pair_message.h"

#include <nlohmann/json.hpp>

namespace ha {

namespace {

constexpr const char* kRoles[] = {"starting", "standby", "active", "handing-over"};
constexpr const char* kTypes[] = {"heartbeat", "handover", "taken"};
constexpr std::size_t kMaxName = 32;
constexpr uint64_t kMaxCounter = (uint64_t{1} << 53) - 1;

bool name_ok(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_string()) return false;
    const auto& s = j[key].get_ref<const std::string&>();
    return !s.empty() && s.size() <= kMaxName;
}

bool counter_ok(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_number_unsigned() && j[key].get<uint64_t>() <= kMaxCounter;
}

template <typename E, std::size_t N>
std::optional<E> lookup(const char* const (&names)[N], const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_string()) return std::nullopt;
    for (std::size_t i = 0; i < N; ++i)
        if (j[key].get_ref<const std::string&>() == names[i]) return static_cast<E>(i);
    return std::nullopt;
}

}  // namespace

const char* to_string(Role role) { return kRoles[static_cast<int>(role)]; }
const char* to_string(PairMessage::Type type) { return kTypes[static_cast<int>(type)]; }

std::string encode(const PairMessage& m) {
    nlohmann::json j = {{"pair", m.pair}, {"node", m.node},   {"type", to_string(m.type)}, {"role", to_string(m.role)},
                        {"seq", m.seq},   {"epoch", m.epoch}, {"priority", m.priority}};
    if (!m.to.empty()) j["to"] = m.to;
    if (m.state) j["state"] = m.state->to_json();
    return j.dump();  // one line, ASCII: the payload rule of libserver_group holds
}

std::optional<PairMessage> decode(const void* payload, std::size_t len, std::string* why) {
    auto j = nlohmann::json::parse(static_cast<const char*>(payload), static_cast<const char*>(payload) + len, nullptr,
                                   false);
    if (j.is_discarded() || !j.is_object()) {
        *why = "not a JSON object";
        return std::nullopt;
    }
    PairMessage m;
    auto type = lookup<PairMessage::Type>(kTypes, j, "type");
    auto role = lookup<Role>(kRoles, j, "role");
    if (!name_ok(j, "pair") || !name_ok(j, "node") || !type || !role || !counter_ok(j, "seq") ||
        !counter_ok(j, "epoch") || !j.contains("priority") || !j["priority"].is_number_integer()) {
        *why = "not a pair message (pair, node, type, role, seq, epoch, priority)";
        return std::nullopt;
    }
    m.pair = j["pair"];
    m.node = j["node"];
    m.type = *type;
    m.role = *role;
    m.seq = j["seq"];
    m.epoch = j["epoch"];
    int64_t priority = j["priority"];
    if (priority < 0 || priority > 255) {
        *why = "priority out of 0..255";
        return std::nullopt;
    }
    m.priority = static_cast<int>(priority);
    if (j.contains("to")) {
        if (!name_ok(j, "to")) {
            *why = "bad \"to\"";
            return std::nullopt;
        }
        m.to = j["to"];
    }
    if (j.contains("state")) {
        m.state = AnsweredStreams::from_json(j["state"]);
        if (!m.state) {
            *why = "bad \"state\"";
            return std::nullopt;
        }
    }
    if ((m.type == PairMessage::Type::Handover && (m.to.empty() || !m.state)) ||
        (m.type == PairMessage::Type::Taken && !m.state)) {
        *why = std::string(to_string(m.type)) + " without its fields";
        return std::nullopt;
    }
    return m;
}

}  // namespace ha
