#include <gtest/gtest.h>

#include "gsdk/json_line.h"
#include "heartbeat_host_wire.h"

using namespace gsdk::hbwire;

namespace {
Message roundtrip(const Message& m) {
    std::string line = encode_line(m);
    EXPECT_EQ(line.front(), '\n');
    EXPECT_EQ(line.back(), '\n');
    std::string err;
    auto obj = gsdk::parse_json_object(line.substr(1, line.size() - 2), &err);
    EXPECT_TRUE(obj) << err;
    Decoded d = decode(*obj);
    EXPECT_TRUE(std::holds_alternative<Message>(d)) << std::get<DecodeError>(d).detail;
    return std::get<Message>(d);
}

DecodeError decode_error(const char* text) {
    std::string err;
    auto obj = gsdk::parse_json_object(text, &err);
    EXPECT_TRUE(obj) << err;
    Decoded d = decode(*obj);
    EXPECT_TRUE(std::holds_alternative<DecodeError>(d));
    return std::get<DecodeError>(d);
}
}  // namespace

TEST(HeartbeatWire, InitRoundTrips) {
    Init init{1804289383, "vm-1", 1000, 11, 11, 11, 11, 121, CorrectiveAction::Stop};
    Message back = roundtrip({7, init});
    EXPECT_EQ(back.sequence, 7);
    const auto& b = std::get<Init>(back.body);
    EXPECT_EQ(b.invocation_id, 1804289383);
    EXPECT_EQ(b.name, "vm-1");
    EXPECT_EQ(b.restart_secs, 121);
    EXPECT_EQ(b.corrective_action, CorrectiveAction::Stop);
}

TEST(HeartbeatWire, ChallengeResponseCarriesApplicationsOnlyWhenSet) {
    ChallengeResponse r{645116255, false, CorrectiveAction::Reboot, "vnf-a: hung", std::nullopt, std::nullopt};
    nlohmann::json j = encode({2, r});
    EXPECT_FALSE(j.contains("applications"));
    EXPECT_EQ(j["heartbeat_health"], "unhealthy");
    r.applications = std::vector<ApplicationStatus>{{"vnf-a", "hung"}};
    Message back = roundtrip({3, r});
    const auto& b = std::get<ChallengeResponse>(back.body);
    ASSERT_TRUE(b.applications);
    EXPECT_EQ((*b.applications)[0].state, "hung");
    EXPECT_FALSE(b.healthy);
}

TEST(HeartbeatWire, ActionMessagesRoundTrip) {
    ActionNotify n{77, EventType::LiveMigrateBegin, NotificationType::Revocable, 4000};
    auto nb = std::get<ActionNotify>(roundtrip({3, n}).body);
    EXPECT_EQ(nb.event_type, EventType::LiveMigrateBegin);
    EXPECT_EQ(nb.timeout_ms, 4000);
    ActionResponse r{77, EventType::Stop, NotificationType::Irrevocable, VoteResult::Complete, ""};
    auto rb = std::get<ActionResponse>(roundtrip({4, r}).body);
    EXPECT_EQ(rb.vote_result, VoteResult::Complete);
    EXPECT_EQ(rb.notification_type, NotificationType::Irrevocable);
}

TEST(HeartbeatWire, FreeTextNewlinesBecomeSpaces) {
    nlohmann::json j = encode({1, Exit{"bye\nnow"}});
    EXPECT_EQ(j["log_msg"], "bye now");
}

TEST(HeartbeatWire, OldVersionIsRefused) {
    auto e = decode_error(R"({"version":2,"revision":1,"msg_type":"challenge","sequence":1,"heartbeat_challenge":5})");
    EXPECT_EQ(e.kind, DecodeError::Kind::OldVersion);
    EXPECT_EQ(e.msg_type, "challenge");
}

TEST(HeartbeatWire, UnknownTypeIsNamed) {
    auto e = decode_error(R"({"version":3,"revision":1,"msg_type":"frobnicate","sequence":1})");
    EXPECT_EQ(e.kind, DecodeError::Kind::UnknownType);
    EXPECT_EQ(e.msg_type, "frobnicate");
}

TEST(HeartbeatWire, MissingOrMistypedKeysAreMalformed) {
    auto e = decode_error(R"({"version":3,"revision":1,"msg_type":"challenge","sequence":1})");
    EXPECT_EQ(e.kind, DecodeError::Kind::Malformed);
    EXPECT_EQ(e.detail, "missing key heartbeat_challenge");
    e = decode_error(R"({"version":3,"revision":1,"msg_type":"challenge","sequence":1,"heartbeat_challenge":"5"})");
    EXPECT_EQ(e.detail, "heartbeat_challenge is not an integer");
    e = decode_error(R"({"version":"3","msg_type":"challenge"})");
    EXPECT_EQ(e.kind, DecodeError::Kind::Malformed);
    e = decode_error(
        R"({"version":3,"revision":1,"msg_type":"challenge_response","sequence":1,"heartbeat_response":1,"heartbeat_health":"meh","corrective_action":"reboot","log_msg":""})");
    EXPECT_EQ(e.detail, "heartbeat_health is \"meh\"");
}

TEST(HeartbeatWire, UnknownWordsReadAsUnknown) {
    std::string err;
    auto obj = gsdk::parse_json_object(
        R"({"version":3,"revision":1,"msg_type":"action_notify","sequence":1,"invocation_id":1,"event_type":"explode","notification_type":"revocable","timeout_ms":10})",
        &err);
    auto m = std::get<Message>(decode(*obj));
    EXPECT_EQ(std::get<ActionNotify>(m.body).event_type, EventType::Unknown);
}

// The real host's nack carries only invocation_id and log_msg.
TEST(HeartbeatWire, NackFromTheRealHostHasNoOrigMsgType) {
    std::string err;
    auto obj = gsdk::parse_json_object(
        R"({"version":3,"revision":1,"msg_type":"nack","sequence":9,"invocation_id":77,"log_msg":"bad vote"})", &err);
    ASSERT_TRUE(obj) << err;
    Decoded d = decode(*obj);
    ASSERT_TRUE(std::holds_alternative<Message>(d)) << std::get<DecodeError>(d).detail;
    const auto& nack = std::get<Nack>(std::get<Message>(d).body);
    EXPECT_EQ(nack.invocation_id, 77);
    EXPECT_EQ(nack.log_msg, "bad vote");
    EXPECT_TRUE(nack.orig_msg_type.empty());
    // And a nack without it is written without the key.
    auto line = encode(Message{1, Nack{5, "", "why"}});
    EXPECT_FALSE(line.contains("orig_msg_type")) << line.dump();
}
