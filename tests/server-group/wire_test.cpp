// The server-group wire (envelope v2, the server-group layer, the payload
// rule), the original library's datagram parsing and the daemon's settings,
// checked against the protocol facts.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>

#include "daemon_config.h"
#include "legacy_datagram.h"
#include "messaging_envelope.h"
#include "payload_rule.h"
#include "server_group_layer.h"
#include "server_group_limits.h"

namespace gsdk::sg {
namespace {

using nlohmann::json;

TEST(PayloadRule, AllowsTextUpToTheLimitAndSaysWhyOtherwise) {
    EXPECT_EQ(PayloadVerdict::Ok, check_payload("", 0));
    EXPECT_EQ(PayloadVerdict::Ok, check_payload(std::string(3050, 'a').data(), 3050));
    EXPECT_EQ(PayloadVerdict::TooLong, check_payload(std::string(3051, 'a').data(), 3051));
    EXPECT_EQ(PayloadVerdict::HasNul, check_payload("a\0b", 3));
    EXPECT_EQ(PayloadVerdict::HasLineBreak, check_payload("a\nb", 3));
    EXPECT_EQ(PayloadVerdict::HasLineBreak, check_payload("a\rb", 3));
    EXPECT_EQ(EMSGSIZE, payload_errno(PayloadVerdict::TooLong));
    EXPECT_EQ(EINVAL, payload_errno(PayloadVerdict::HasNul));
    EXPECT_EQ(0, payload_errno(PayloadVerdict::Ok));
}

TEST(PayloadRule, Utf8IsStrict) {
    auto ok = [](const std::string& s) {
        return valid_utf8(reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    EXPECT_TRUE(ok("plain"));
    EXPECT_TRUE(ok("\xc3\xbc"));           // U+00FC
    EXPECT_TRUE(ok("\xe2\x9c\x93"));       // U+2713
    EXPECT_TRUE(ok("\xf0\x9f\x98\x80"));   // U+1F600
    EXPECT_TRUE(ok("\xf4\x8f\xbf\xbf"));   // U+10FFFF
    EXPECT_FALSE(ok("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(ok("\xe0\x80\xaf"));      // overlong, three bytes
    EXPECT_FALSE(ok("\xed\xa0\x80"));      // a surrogate
    EXPECT_FALSE(ok("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(ok("\x80"));              // a lone continuation
    EXPECT_FALSE(ok("\xe2\x9c"));          // cut short
    EXPECT_FALSE(ok("\xff"));
}

TEST(PayloadRule, Utf8CheckedWhereverItSitsInALongPayload) {
    // ASCII is skipped eight bytes at a time: a sequence on either side of
    // a word's edge, or in the short tail, must still be judged.
    auto ok = [](const std::string& s) {
        return valid_utf8(reinterpret_cast<const unsigned char*>(s.data()), s.size());
    };
    for (std::size_t before = 0; before < 20; ++before) {
        for (std::size_t after : {0, 1, 7, 8, 9}) {
            std::string lead(before, 'a'), tail(after, 'z');
            EXPECT_TRUE(ok(lead + "\xf0\x9f\x98\x80" + tail)) << before << "/" << after;
            EXPECT_TRUE(ok(lead + "\xc3\xbc" + tail + "\xe2\x9c\x93")) << before << "/" << after;
            EXPECT_FALSE(ok(lead + "\xed\xa0\x80" + tail)) << before << "/" << after;
            EXPECT_FALSE(ok(lead + "\x80" + tail)) << before << "/" << after;
            EXPECT_FALSE(ok(lead + tail + "\xe2\x9c")) << before << "/" << after;
        }
    }
    EXPECT_EQ(PayloadVerdict::InvalidUtf8, check_payload((std::string(3000, 'a') + "\xff").data(), 3001));
}

TEST(Envelope, DecodesTheRealHostsLines) {
    // From a real exchange: the host frames {...} and puts "version" as the inner version.
    auto d = sgwire::parse_envelope(
        R"({"version": 2, "source_addr": "cgcs.server_grp", "dest_addr": "cgcs.server_grp", "data": {"version": "version", "msg_type": "broadcast", "source_instance": "instance-00000002", "data": "hello back"}})",
        sgwire::Origin::Host);
    ASSERT_TRUE(std::holds_alternative<sgwire::Envelope>(d)) << std::get<sgwire::EnvelopeError>(d).detail;
    const auto& e = std::get<sgwire::Envelope>(d);
    EXPECT_EQ("cgcs.server_grp", e.source_addr);
    EXPECT_EQ("cgcs.server_grp", e.dest_addr);
    auto m = sgwire::decode_host_message(e.data);
    ASSERT_TRUE(std::holds_alternative<sgwire::HostGroupMessage>(m));
    const auto& b = std::get<sgwire::GroupBroadcast>(std::get<sgwire::HostGroupMessage>(m));
    EXPECT_EQ("instance-00000002", b.source_instance);
    EXPECT_EQ("hello back", b.payload);
}

TEST(Envelope, RefusesWhatBreaksTheFacts) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"([1])", "not an object"},
        {R"({"source_addr":"a","dest_addr":"b","data":{}})", "no version"},
        {R"({"version":3,"source_addr":"a","dest_addr":"b","data":{}})", "is not 2"},
        {R"({"version":2.0,"source_addr":"a","dest_addr":"b","data":{}})", "is not 2"},
        {R"({"version":2,"source_addr":"a","data":{}})", "no dest_addr"},
        {R"({"version":2,"dest_addr":"b","data":{}})", "no source_addr"},
        {R"({"version":2,"source_addr":7,"dest_addr":"b","data":{}})", "source_addr is not a string"},
        {R"({"version":2,"source_addr":"a","dest_addr":"12345678901234567","data":{}})", "not an address"},
        {R"({"version":2,"source_addr":"a b","dest_addr":"b","data":{}})", "not an address"},
        {R"({"version":2,"source_addr":"","dest_addr":"b","data":{}})", "not an address"},
        {R"({"version":2,"source_addr":"a","dest_addr":"b"})", "no data"},
        {R"({"version":2,"source_addr":"a","dest_addr":"b","data":"{}"})", "not a JSON object"},
    };
    for (const auto& [text, why] : cases) {
        auto d = sgwire::parse_envelope(text, sgwire::Origin::Host);
        ASSERT_TRUE(std::holds_alternative<sgwire::EnvelopeError>(d)) << text;
        EXPECT_NE(std::string::npos, std::get<sgwire::EnvelopeError>(d).detail.find(why))
            << text << ": " << std::get<sgwire::EnvelopeError>(d).detail;
    }
    EXPECT_TRUE(sgwire::valid_address("1234567890123456"));  // 16 bytes is the most
    // A local sender (the original library) names no source_addr.
    auto local =
        sgwire::parse_envelope(R"({"data":{},"version":2,"dest_addr":"cgcs.server_grp"})", sgwire::Origin::LocalSender);
    EXPECT_TRUE(std::holds_alternative<sgwire::Envelope>(local));
}

TEST(Envelope, EncodesTheFourKeysWithNestedData) {
    sgwire::Envelope e{"cgcs.server_grp", "cgcs.server_grp",
                       json{{"version", 2}, {"msg_type", "broadcast"}, {"data", "x"}}};
    std::string line = sgwire::encode_envelope_line(e);
    ASSERT_GE(line.size(), 2u);
    EXPECT_EQ('\n', line.front());
    EXPECT_EQ('\n', line.back());
    EXPECT_EQ(line.size() - 1, line.find('\n', 1)) << "no newline inside the line";
    json j = json::parse(line);
    EXPECT_EQ(
        (json{{"version", 2}, {"source_addr", "cgcs.server_grp"}, {"dest_addr", "cgcs.server_grp"}, {"data", e.data}}),
        j);
    EXPECT_TRUE(j["data"].is_object());
}

TEST(Layer, GuestMessagesCarryOnlyWhatTheyNeed) {
    EXPECT_EQ((json{{"version", 2}, {"msg_type", "broadcast"}, {"data", "p"}}),
              sgwire::encode_guest_message(sgwire::OutgoingBroadcast{"p"}));
    EXPECT_EQ((json{{"version", 2}, {"msg_type", "status_query"}, {"seq", 5}}),
              sgwire::encode_guest_message(sgwire::StatusQuery{5}));
}

TEST(Layer, HostMessagesDecodeWhateverTheInnerVersion) {
    for (json version : {json(2), json("version"), json(nullptr), json(99)}) {
        auto m = sgwire::decode_host_message(
            {{"version", version}, {"msg_type", "notification"}, {"data", {{"state", "active"}}}});
        ASSERT_TRUE(std::holds_alternative<sgwire::HostGroupMessage>(m)) << version;
        EXPECT_EQ(R"({"state":"active"})",
                  std::get<sgwire::GroupNotification>(std::get<sgwire::HostGroupMessage>(m)).text);
    }
    // A broadcast whose data is not a string reaches the application as JSON text.
    auto b = sgwire::decode_host_message({{"msg_type", "broadcast"}, {"source_instance", "i"}, {"data", {{"k", 1}}}});
    EXPECT_EQ(R"({"k":1})", std::get<sgwire::GroupBroadcast>(std::get<sgwire::HostGroupMessage>(b)).payload);
    // Status members are always JSON text (elements of the answer array).
    auto r = sgwire::decode_host_message({{"msg_type", "status_response"}, {"seq", 3}, {"data", "as string"}});
    const auto& resp = std::get<sgwire::StatusResponse>(std::get<sgwire::HostGroupMessage>(r));
    EXPECT_EQ(3, resp.seq);
    EXPECT_EQ(R"("as string")", resp.member_json);
    // A nack needs only log_msg; orig_msg_type is taken when present.
    auto n1 = sgwire::decode_host_message({{"msg_type", "nack"}, {"log_msg", "bad"}});
    EXPECT_EQ("bad", std::get<sgwire::HostNack>(std::get<sgwire::HostGroupMessage>(n1)).log_msg);
    auto n2 =
        sgwire::decode_host_message({{"msg_type", "nack"}, {"log_msg", "bad"}, {"orig_msg_type", "status_query"}});
    EXPECT_EQ("status_query", std::get<sgwire::HostNack>(std::get<sgwire::HostGroupMessage>(n2)).orig_msg_type);
}

TEST(Layer, RefusesWhatItCannotUse) {
    const std::vector<json> bad = {
        json::array(),
        {{"data", "no type"}},
        {{"msg_type", 3}},
        {{"msg_type", "broadcast"}, {"data", "x"}},
        {{"msg_type", "broadcast"}, {"source_instance", "i"}},
        {{"msg_type", "broadcast"}, {"source_instance", std::string(256, 'i')}, {"data", "x"}},
        {{"msg_type", "notification"}},
        {{"msg_type", "status_response"}, {"data", {}}},
        {{"msg_type", "status_response"}, {"seq", 1.5}, {"data", {}}},
        {{"msg_type", "status_response"}, {"seq", 18446744073709551615ull}, {"data", {}}},
        {{"msg_type", "status_response_done"}},
    };
    for (const auto& b : bad)
        EXPECT_TRUE(std::holds_alternative<sgwire::LayerError>(sgwire::decode_host_message(b))) << b;
    auto unknown = sgwire::decode_host_message({{"msg_type", "teleport"}});
    EXPECT_EQ(sgwire::LayerError::Kind::UnknownType, std::get<sgwire::LayerError>(unknown).kind);
    // What a guest sends, and nothing else, decodes as a guest message.
    EXPECT_TRUE(
        std::holds_alternative<sgwire::LayerError>(sgwire::decode_guest_message({{"msg_type", "notification"}})));
    EXPECT_TRUE(std::holds_alternative<sgwire::LayerError>(
        sgwire::decode_guest_message({{"msg_type", "broadcast"}, {"data", 5}})));
}

TEST(Layer, HostEncodingRoundTrips) {
    std::vector<sgwire::HostGroupMessage> messages = {
        sgwire::GroupBroadcast{"instance-1", "p \"q\""}, sgwire::GroupNotification{R"({"a":[1,2]})"},
        sgwire::StatusResponse{4, R"({"m":1})"}, sgwire::StatusResponseDone{4}, sgwire::HostNack{"why", "broadcast"}};
    for (const auto& m : messages) {
        auto back = sgwire::decode_host_message(sgwire::encode_host_message(m));
        ASSERT_TRUE(std::holds_alternative<sgwire::HostGroupMessage>(back));
        EXPECT_EQ(m.index(), std::get<sgwire::HostGroupMessage>(back).index());
        EXPECT_EQ(sgwire::encode_host_message(m),
                  sgwire::encode_host_message(std::get<sgwire::HostGroupMessage>(back)));
    }
}

TEST(LegacyDatagram, AbstractNamesHaveNoTrailingNul) {
    socklen_t len;
    sockaddr_un a = abstract_address("cgcs.messaging", &len);
    EXPECT_EQ(17u, len);  // 2 + 1 + 14
    EXPECT_EQ('\0', a.sun_path[0]);
    sockaddr_un b = abstract_address("cgcs.server_grp", &len);
    EXPECT_EQ(18u, len);
    EXPECT_EQ("cgcs.server_grp", abstract_name(b, len));
    // One byte more is another name (with a NUL at its end).
    EXPECT_EQ(std::string("cgcs.server_grp\0", 16), abstract_name(b, len + 1));
    sockaddr_un unbound{};
    unbound.sun_family = AF_UNIX;
    EXPECT_FALSE(abstract_name(unbound, sizeof(sa_family_t)));
    sockaddr_un path{};
    path.sun_family = AF_UNIX;
    std::strcpy(path.sun_path, "/tmp/x");
    EXPECT_FALSE(abstract_name(path, offsetof(sockaddr_un, sun_path) + 7));
}

TEST(LegacyDatagram, ParsesTheOriginalLibrarysMessages) {
    socklen_t len;
    sockaddr_un from = abstract_address("cgcs.server_grp", &len);
    auto d = parse_legacy_datagram(
        from, len,
        R"({"data":{"version":2,"msg_type":"broadcast","data":"a\/b"},"version":2,"dest_addr":"cgcs.server_grp"})");
    ASSERT_TRUE(std::holds_alternative<LegacyDatagram>(d)) << std::get<LegacyDatagramError>(d).detail;
    const auto& g = std::get<LegacyDatagram>(d);
    EXPECT_EQ("cgcs.server_grp", g.sender);
    EXPECT_EQ("cgcs.server_grp", g.envelope.source_addr);
    EXPECT_EQ("a/b", g.envelope.data["data"]);
    sockaddr_un unbound{};
    unbound.sun_family = AF_UNIX;
    EXPECT_TRUE(std::holds_alternative<LegacyDatagramError>(
        parse_legacy_datagram(unbound, sizeof(sa_family_t), R"({"data":{},"version":2,"dest_addr":"x"})")));
    EXPECT_TRUE(std::holds_alternative<LegacyDatagramError>(parse_legacy_datagram(from, len, "{\"version\":2")));
}

TEST(DaemonConfig, ReadsEveryKeyAndNamesProblems) {
    DaemonConfig c;
    auto problems = apply_config_text(&c,
                                      "STATUS_TIMEOUT_MS=700\nMAX_CLIENTS=10\nMAX_CLIENTS_PER_UID=2\n"
                                      "BROADCAST_RATE=7\nBROADCAST_BURST=9\nLEGACY_DATAGRAMS=no\n"
                                      "ALLOWED_UIDS=12,13\nALLOWED_GROUPS=\nLOCAL_SERVICES=cgcs.scale:0, cgcs.extra\n",
                                      "test.conf");
    EXPECT_TRUE(problems.empty()) << problems.front();
    EXPECT_EQ(700, c.status_timeout_ms);
    EXPECT_EQ(10, c.max_clients);
    EXPECT_EQ(2, c.max_clients_per_uid);
    EXPECT_EQ(7, c.broadcast_rate);
    EXPECT_EQ(9, c.broadcast_burst);
    EXPECT_FALSE(c.legacy_datagrams);
    EXPECT_EQ("12,13", c.access.allowed_uids);
    ASSERT_TRUE(c.access.allowed_groups);
    EXPECT_EQ("", *c.access.allowed_groups);
    ASSERT_EQ(2u, c.local_services.size());
    EXPECT_EQ("cgcs.scale", c.local_services[0].address);
    EXPECT_FALSE(c.local_services[0].root_only);
    EXPECT_TRUE(c.local_services[1].root_only);

    DaemonConfig d;
    problems = apply_config_text(
        &d, "STATUS_TIMEOUT_MS=1\nLEGACY_DATAGRAMS=perhaps\nLOCAL_SERVICES=cgcs.server_grp\nBOGUS=1\n", "bad.conf");
    auto mentions = [&](const std::string& what) {
        for (const auto& p : problems)
            if (p.find(what) != std::string::npos) return true;
        return false;
    };
    EXPECT_TRUE(mentions("STATUS_TIMEOUT_MS"));
    EXPECT_TRUE(mentions("LEGACY_DATAGRAMS"));
    EXPECT_TRUE(mentions("cgcs.server_grp"));
    EXPECT_TRUE(mentions("BOGUS"));
    EXPECT_EQ(5000, d.status_timeout_ms);
    EXPECT_TRUE(d.local_services.empty());
}

}  // namespace
}  // namespace gsdk::sg
