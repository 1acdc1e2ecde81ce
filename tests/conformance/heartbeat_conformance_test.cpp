// Conformance of the heartbeat wire format: legacy lines against the table of
// PROTOCOLS.md, and our encoder byte-for-byte against golden lines.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "gsdk/json_line.h"
#include "heartbeat_host_wire.h"
#include "heartbeat_schema.h"

using namespace gsdk::hbwire;

namespace {

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(line);
    return out;
}

std::set<std::string> keys_of(const nlohmann::json& j) {
    std::set<std::string> k;
    for (const auto& [key, v] : j.items()) k.insert(key);
    return k;
}

// The messages behind golden/heartbeat_messages.jsonl, line by line.
std::vector<Message> golden_messages() {
    return {
        {1, Init{1804289383, "calib-guest", 1000, 11, 11, 11, 11, 121, CorrectiveAction::Reboot}},
        {1, InitAck{1804289383, {}}},
        {2, Challenge{645116255}},
        {2, ChallengeResponse{645116255, true, CorrectiveAction::Reboot, "", std::nullopt, std::nullopt}},
        {3, ChallengeResponse{7, false, CorrectiveAction::Stop, "vnf-a: not answering health checks (hung)",
                              std::nullopt, std::nullopt}},
        {3, ActionNotify{77, EventType::Stop, NotificationType::Revocable, 4000}},
        {4, ActionResponse{77, EventType::Stop, NotificationType::Revocable, VoteResult::Reject,
                           "rejected by vnf-a: active calls"}},
        {5, ActionResponse{78, EventType::LiveMigrateEnd, NotificationType::Irrevocable, VoteResult::Complete, ""}},
        {6, Exit{"guest-heartbeatd stopping (SIGTERM)"}},
        {7, Nack{0, "frobnicate", "unknown msg_type frobnicate"}},
    };
}

const std::string kData = std::string(CONFORMANCE_DIR) + "/data/heartbeat.jsonl";
const std::string kGolden = std::string(CONFORMANCE_DIR) + "/golden/heartbeat_messages.jsonl";

}  // namespace

TEST(HeartbeatConformance, EveryLegacyLineMatchesTheProtocolTable) {
    auto records = read_jsonl(kData);
    ASSERT_GE(records.size(), 5u);
    for (const auto& r : records) {
        auto problems = conformance::check_heartbeat_line(r["line"]);
        EXPECT_TRUE(problems.empty()) << r["line"].dump() << ": " << problems.front();
    }
}

TEST(HeartbeatConformance, EveryLegacyLineDecodesAndReencodesWithTheSameKeysAndTypes) {
    for (const auto& r : read_jsonl(kData)) {
        const auto& line = r["line"];
        Decoded d = decode(line);
        ASSERT_TRUE(std::holds_alternative<Message>(d)) << line.dump();
        nlohmann::json ours = encode(std::get<Message>(d));
        EXPECT_EQ(keys_of(ours), keys_of(line)) << line.dump();
        for (const auto& [key, value] : line.items()) {
            EXPECT_EQ(conformance::json_kind(ours[key]), conformance::json_kind(value)) << key;
            if (key != "sequence") EXPECT_EQ(ours[key], value) << key;
        }
    }
}

TEST(HeartbeatConformance, GoldenLinesCoverEveryMessageTypeInBothDirections) {
    std::set<std::string> types;
    for (const auto& m : golden_messages()) types.insert(msg_type_of(m.body));
    EXPECT_EQ(types, (std::set<std::string>{"init", "init_ack", "challenge", "challenge_response", "action_notify",
                                            "action_response", "exit", "nack"}));
}

TEST(HeartbeatConformance, EncoderProducesTheGoldenLinesByteForByte) {
    auto golden = read_lines(kGolden);
    auto messages = golden_messages();
    ASSERT_EQ(golden.size(), messages.size());
    for (std::size_t i = 0; i < golden.size(); ++i) {
        EXPECT_EQ(encode_line(messages[i]), "\n" + golden[i] + "\n") << "golden line " << i + 1;
        EXPECT_TRUE(conformance::check_heartbeat_line(nlohmann::json::parse(golden[i])).empty()) << golden[i];
    }
}

TEST(HeartbeatConformance, GoldenLinesDecodeBackToTheSameBytes) {
    for (const auto& g : read_lines(kGolden)) {
        std::string err;
        auto obj = gsdk::parse_json_object(g, &err);
        ASSERT_TRUE(obj) << err;
        Decoded d = decode(*obj);
        ASSERT_TRUE(std::holds_alternative<Message>(d)) << g;
        EXPECT_EQ(encode_line(std::get<Message>(d)), "\n" + g + "\n");
    }
}

TEST(HeartbeatConformance, ExtensionKeysOnlyWhenNegotiated) {
    ChallengeResponse plain{1, true, CorrectiveAction::Reboot, "", std::nullopt, std::nullopt};
    EXPECT_TRUE(conformance::check_heartbeat_line(encode({1, plain})).empty());
    ChallengeResponse extended = plain;
    extended.applications = std::vector<ApplicationStatus>{{"vnf-a", "healthy"}};
    EXPECT_FALSE(conformance::check_heartbeat_line(encode({1, extended})).empty());
    EXPECT_TRUE(conformance::check_heartbeat_line(encode({1, extended}), /*allow_extensions=*/true).empty());
}
