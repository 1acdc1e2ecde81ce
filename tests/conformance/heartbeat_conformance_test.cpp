// Our heartbeat encoder and decoder (heartbeat/proto) against the protocol
// facts (heartbeat_schema, from docs/protocols/heartbeat.md) and against the
// lines the reference guest and host exchanged (data/heartbeat.jsonl).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gsdk/json_line.h"
#include "heartbeat_host_wire.h"
#include "heartbeat_schema.h"
#include "sender_framing.h"
#include "transcript.h"

using namespace gsdk::hbwire;
using conformance::heartbeat::check_message;
using conformance::heartbeat::Direction;
using conformance::heartbeat::Extensions;
using conformance::heartbeat::ValueKind;

namespace {

namespace schema = conformance::heartbeat;

std::set<std::string> keys_of(const nlohmann::json& j) {
    std::set<std::string> k;
    for (const auto& [key, v] : j.items()) k.insert(key);
    return k;
}

std::string joined(const std::vector<std::string>& problems) {
    std::string s;
    for (const auto& p : problems) s += "\n  " + p;
    return s;
}

// Every value of each enum, up to its last enumerator.
template <typename E>
std::vector<E> all_values(E last) {
    std::vector<E> v;
    for (int i = 0; i <= static_cast<int>(last); ++i) v.push_back(static_cast<E>(i));
    return v;
}
const auto kActions = all_values(CorrectiveAction::Log);
const auto kEvents = all_values(EventType::ColdMigrateEnd);
const auto kNotifications = all_values(NotificationType::Irrevocable);
const auto kVotes = all_values(VoteResult::Error);

struct Sample {
    Message message;
    Direction direction;
    Extensions extensions;
};

// Messages of every type, with every enum value, as our guest daemon and our
// host would send them.
std::vector<Sample> encoder_samples() {
    const auto G = Direction::GuestToHost, H = Direction::HostToGuest;
    const auto plain = Extensions::None, offered = Extensions::Offered;
    std::vector<Sample> s;
    int64_t seq = 1;
    for (auto a : kActions)
        s.push_back({{seq++, Init{1804289383, "calib-guest", 1000, 11, 11, 11, 11, 121, a}}, G, plain});
    s.push_back({{seq++, Init{7, "name with\na newline", 400, 1, 2, 3, 4, 5, CorrectiveAction::Reboot}}, G, plain});
    s.push_back({{seq++, InitAck{1804289383, {}}}, H, plain});
    s.push_back({{seq++, InitAck{1804289383, {kExtensionApplications, kExtensionHeldChallenges}}}, H, offered});
    s.push_back({{seq++, Challenge{645116255}}, H, plain});
    for (auto a : kActions) {
        s.push_back({{seq++, ChallengeResponse{645116255, true, a, "", std::nullopt}}, G, plain});
        s.push_back({{seq++, ChallengeResponse{5, false, a, "vnf-a: hung\nsince 3 s", std::nullopt}}, G, plain});
    }
    s.push_back(
        {{seq++,
          ChallengeResponse{9, false, CorrectiveAction::Stop, "vnf-b: failed",
                            std::vector<ApplicationStatus>{
                                {"vnf-a", "healthy"}, {"vnf-b", "failed"}, {"vnf-c", "hung"}, {"vnf-d", "unhealthy"}}}},
         G,
         offered});
    for (auto e : kEvents)
        for (auto n : kNotifications) s.push_back({{seq++, ActionNotify{77, e, n, 4000}}, H, plain});
    for (auto v : kVotes)
        for (auto e : kEvents)
            s.push_back(
                {{seq++, ActionResponse{77, e, NotificationType::Revocable, v, "rejected by vnf-a"}}, G, plain});
    s.push_back({{seq++, Exit{"Exiting..."}}, G, plain});
    s.push_back({{seq++, Exit{"host going\ndown"}}, H, plain});
    s.push_back({{seq++, Nack{0, "frobnicate", "unknown msg_type frobnicate"}}, H, plain});
    s.push_back({{seq++, Nack{12, "", "bad init"}}, H, plain});
    return s;
}

const std::vector<conformance::TranscriptLine>& transcript() {
    static const auto t = conformance::read_transcript("heartbeat");
    return t;
}

Decoded decode_text(const std::string& text) {
    auto object = gsdk::parse_json_object(text, nullptr);
    if (!object) return DecodeError{DecodeError::Kind::Malformed, "", "does not parse"};
    return decode(*object);
}

}  // namespace

// (a) The schema is sane: every captured line, guest's and host's, conforms.
TEST(HeartbeatSchema, EveryTranscriptLineConforms) {
    ASSERT_FALSE(transcript().empty());
    std::set<std::string> guest_types;
    for (const auto& t : transcript()) {
        auto dir = t.from_guest ? Direction::GuestToHost : Direction::HostToGuest;
        EXPECT_EQ(joined(check_message(t.line, dir)), "") << t.line.dump();
        if (t.from_guest) guest_types.insert(t.line["msg_type"].get<std::string>());
    }
    // The capture holds every message the reference guest sends.
    for (const auto& rule : schema::message_rules())
        if (rule.guest_sends) {
            EXPECT_TRUE(guest_types.count(rule.msg_type)) << rule.msg_type;
        }
}

TEST(HeartbeatSchema, CatchesWhatAPeerWouldNotice) {
    nlohmann::json good = conformance::transcript_line(transcript(), "challenge_response", true);
    ASSERT_FALSE(good.is_null());
    ASSERT_EQ(joined(check_message(good, Direction::GuestToHost)), "");
    auto broken = [&](auto change) {
        nlohmann::json j = good;
        change(j);
        return !check_message(j, Direction::GuestToHost).empty();
    };
    EXPECT_TRUE(broken([](auto& j) { j.erase("corrective_action"); }));
    EXPECT_TRUE(broken([](auto& j) { j["heartbeat_health"] = "ok"; }));
    EXPECT_TRUE(broken([](auto& j) { j["corrective_action"] = "Reboot"; }));
    EXPECT_TRUE(broken([](auto& j) { j["heartbeat_response"] = "645116255"; }));
    EXPECT_TRUE(broken([](auto& j) { j["heartbeat_response"] = 1.5; }));
    EXPECT_TRUE(broken([](auto& j) { j["version"] = 2; }));
    EXPECT_TRUE(broken([](auto& j) { j["revision"] = "1"; }));
    EXPECT_TRUE(broken([](auto& j) { j["extra"] = 1; }));
    EXPECT_TRUE(broken([](auto& j) { j["applications"] = nlohmann::json::object(); }));  // not offered
    EXPECT_TRUE(broken([](auto& j) { j["msg_type"] = "challenge"; }));                   // host's message
    EXPECT_FALSE(check_message(nlohmann::json::array(), Direction::GuestToHost).empty());
}

// (b) Every line our encoder produces conforms, is framed "\n{...}\n", and has
// the key set and value types of the reference line of its type.
TEST(HeartbeatEncoder, EveryMessageConformsIsFramedAndHasTheShapeOfTheReferenceLine) {
    std::set<std::string> types;
    for (const auto& s : encoder_samples()) {
        std::string line = encode_line(s.message);
        auto framing = conformance::framing_violations(line);
        EXPECT_TRUE(framing.empty()) << line << joined(framing);
        auto object = gsdk::parse_json_object(std::string_view(line).substr(1, line.size() - 2), nullptr);
        ASSERT_TRUE(object) << line;
        std::string type = object->value("msg_type", "");
        types.insert(type);
        EXPECT_EQ(joined(check_message(*object, s.direction, s.extensions)), "") << line;
        if (s.extensions == Extensions::Offered) continue;
        nlohmann::json reference =
            conformance::transcript_line(transcript(), type, s.direction == Direction::GuestToHost);
        if (reference.is_null()) continue;  // nack, a host exit: not in the capture
        EXPECT_EQ(keys_of(*object), keys_of(reference)) << line;
        for (const auto& [key, value] : reference.items())
            EXPECT_EQ(schema::json_kind((*object)[key]), schema::json_kind(value)) << type << "." << key;
    }
    for (const auto& rule : schema::message_rules()) EXPECT_TRUE(types.count(rule.msg_type)) << rule.msg_type;
}

TEST(HeartbeatEncoder, EnumValuesAreExactlyTheProtocolStrings) {
    auto encoded = [](const Message& m, const char* key) { return encode(m)[key].get<std::string>(); };
    std::set<std::string> actions, events, notifications, votes;
    for (auto a : kActions)
        actions.insert(encoded({1, ChallengeResponse{1, true, a, "", std::nullopt}}, "corrective_action"));
    for (auto e : kEvents)
        events.insert(encoded({1, ActionNotify{1, e, NotificationType::Revocable, 1}}, "event_type"));
    for (auto n : kNotifications)
        notifications.insert(encoded({1, ActionNotify{1, EventType::Stop, n, 1}}, "notification_type"));
    for (auto v : kVotes)
        votes.insert(
            encoded({1, ActionResponse{1, EventType::Stop, NotificationType::Revocable, v, ""}}, "vote_result"));
    EXPECT_EQ(actions, schema::allowed_words(ValueKind::Action));
    EXPECT_EQ(events, schema::allowed_words(ValueKind::Event));
    EXPECT_EQ(notifications, schema::allowed_words(ValueKind::Notification));
    EXPECT_EQ(votes, schema::allowed_words(ValueKind::VoteResult));
    std::set<std::string> health = {
        encoded({1, ChallengeResponse{1, true, CorrectiveAction::None, "", {}}}, "heartbeat_health"),
        encoded({1, ChallengeResponse{1, false, CorrectiveAction::None, "x", {}}}, "heartbeat_health")};
    EXPECT_EQ(health, schema::allowed_words(ValueKind::Health));
}

// (c) Our decoder reads every captured line, and re-encoding it gives the
// same keys and values: the two ends agree with the reference on each key.
TEST(HeartbeatDecoder, AcceptsEveryTranscriptLineAndReencodesItUnchanged) {
    for (const auto& t : transcript()) {
        Decoded d = decode(t.line);
        ASSERT_TRUE(std::holds_alternative<Message>(d)) << t.line.dump() << ": " << std::get<DecodeError>(d).detail;
        const Message& m = std::get<Message>(d);
        EXPECT_EQ(msg_type_of(m.body), t.line["msg_type"]) << t.line.dump();
        nlohmann::json again = encode(m);
        EXPECT_EQ(keys_of(again), keys_of(t.line)) << t.line.dump();
        for (const auto& [key, value] : t.line.items()) EXPECT_EQ(again[key], value) << key << " of " << t.line.dump();
    }
}

TEST(HeartbeatDecoder, AcceptsBothFramingsInAnyChunking) {
    // The reference host writes "{...}\n" (at times in several writes); the
    // reference guest "\n{...}\n". Both, cut into chunks of every size.
    std::string stream;
    std::size_t lines = 0;
    for (const auto& t : transcript()) {
        stream += (t.from_guest ? "\n" : "") + t.line.dump() + "\n";
        ++lines;
    }
    for (std::size_t chunk = 1; chunk <= 64; ++chunk) {
        gsdk::LineSplitter splitter;
        std::size_t decoded = 0;
        for (std::size_t off = 0; off < stream.size(); off += chunk)
            splitter.feed(
                std::string_view(stream).substr(off, chunk),
                [&](std::string_view line) {
                    if (std::holds_alternative<Message>(decode_text(std::string(line)))) ++decoded;
                },
                [](std::size_t) { ADD_FAILURE() << "oversize"; });
        EXPECT_EQ(decoded, lines) << "chunks of " << chunk;
    }
}

TEST(HeartbeatDecoder, RejectsALineMissingAnyRequiredKey) {
    for (const auto& t : transcript()) {
        std::string type = t.line["msg_type"];
        std::vector<std::string> required;
        for (const auto& k : schema::common_keys()) required.push_back(k.key);
        for (const auto& k : schema::rule_for(type)->keys)
            if (k.required) required.push_back(k.key);
        for (const auto& key : required) {
            nlohmann::json j = t.line;
            j.erase(key);
            Decoded d = decode(j);
            ASSERT_TRUE(std::holds_alternative<DecodeError>(d)) << type << " without " << key << " was accepted";
            EXPECT_EQ(std::get<DecodeError>(d).kind, DecodeError::Kind::Malformed) << type << " without " << key;
        }
    }
}

TEST(HeartbeatDecoder, RejectsAValueOfTheWrongType) {
    for (const auto& t : transcript()) {
        std::string type = t.line["msg_type"];
        std::vector<schema::KeyRule> keys = schema::common_keys();
        for (const auto& k : schema::rule_for(type)->keys)
            if (k.required) keys.push_back(k);
        for (const auto& k : keys) {
            std::vector<nlohmann::json> wrong;
            if (k.kind == ValueKind::Integer)
                wrong = {"7", nullptr, nlohmann::json::array({7}), nlohmann::json::object()};
            else
                wrong = {7, nullptr, true, nlohmann::json::object({{"text", "x"}})};
            if (k.key == "msg_type") continue;  // a msg_type that is not a string names no message
            for (const auto& bad : wrong) {
                nlohmann::json j = t.line;
                j[k.key] = bad;
                Decoded d = decode(j);
                EXPECT_TRUE(std::holds_alternative<DecodeError>(d)) << type << "." << k.key << " = " << bad.dump();
            }
        }
    }
}

TEST(HeartbeatDecoder, RejectsVersionsBelowThree) {
    for (const auto& t : transcript()) {
        for (int version : {2, 1, 0, -3}) {
            nlohmann::json j = t.line;
            j["version"] = version;
            Decoded d = decode(j);
            ASSERT_TRUE(std::holds_alternative<DecodeError>(d)) << j.dump();
            EXPECT_EQ(std::get<DecodeError>(d).kind, DecodeError::Kind::OldVersion) << j.dump();
        }
    }
}

TEST(HeartbeatDecoder, AcceptsTheRealHostsNackWithoutOrigMsgType) {
    // docs/protocols/heartbeat.md#nack: the real host sends only these keys.
    nlohmann::json nack = {{"version", 3},  {"revision", 1},      {"msg_type", "nack"},
                           {"sequence", 4}, {"invocation_id", 0}, {"log_msg", "unknown msg_type frobnicate"}};
    ASSERT_EQ(joined(check_message(nack, Direction::HostToGuest)), "");
    Decoded d = decode(nack);
    ASSERT_TRUE(std::holds_alternative<Message>(d)) << std::get<DecodeError>(d).detail;
    EXPECT_EQ(std::get<Nack>(std::get<Message>(d).body).log_msg, "unknown msg_type frobnicate");
    nack["orig_msg_type"] = "frobnicate";
    d = decode(nack);
    ASSERT_TRUE(std::holds_alternative<Message>(d)) << std::get<DecodeError>(d).detail;
    EXPECT_EQ(std::get<Nack>(std::get<Message>(d).body).orig_msg_type, "frobnicate");
}
