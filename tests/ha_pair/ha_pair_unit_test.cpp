// The HA pair's state and messages taken apart: the answered-request window
// that travels with the role, the pair's broadcasts, and the service's
// datagrams, including what a hostile or broken peer could send.
#include <gtest/gtest.h>

#include "answered_window.h"
#include "pair_message.h"
#include "service_wire.h"

using namespace ha;

TEST(AnsweredWindow, EachNumberIsAnsweredOnceInAnyOrder) {
    AnsweredWindow w;
    EXPECT_TRUE(w.answer(2));
    EXPECT_TRUE(w.answer(3));
    EXPECT_FALSE(w.answered(1));
    EXPECT_EQ(w.base(), 0u);
    EXPECT_TRUE(w.answer(1));
    EXPECT_EQ(w.base(), 3u);  // 1..3 contiguous now
    EXPECT_FALSE(w.answer(2));
    EXPECT_FALSE(w.answer(3));
    EXPECT_FALSE(w.answer(0));  // numbers start at 1
}

TEST(AnsweredWindow, FarAheadNumberGivesUpTheHolesItLeavesBehind) {
    AnsweredWindow w;
    uint64_t given_up = 0;
    EXPECT_TRUE(w.answer(2, &given_up));
    EXPECT_EQ(given_up, 0u);
    EXPECT_TRUE(w.answer(AnsweredWindow::kWindow + 10, &given_up));
    EXPECT_EQ(given_up, 9u);  // 1 and 3..10 left the window unanswered; 2 was answered
    EXPECT_EQ(w.base(), 10u);
    EXPECT_TRUE(w.answered(10));
    EXPECT_FALSE(w.answered(11));
    EXPECT_FALSE(w.answered(AnsweredWindow::kWindow + 9));
    EXPECT_TRUE(w.answered(AnsweredWindow::kWindow + 10));
}

TEST(AnsweredWindow, TravelsAsJsonAndComesBackTheSame) {
    AnsweredWindow w;
    for (uint64_t n : {1, 2, 3, 5, 8, 13, 700}) w.answer(n);
    auto back = AnsweredWindow::from_json(w.to_json());
    ASSERT_TRUE(back);
    for (uint64_t n = 1; n <= AnsweredWindow::kWindow + 5; ++n) EXPECT_EQ(back->answered(n), w.answered(n)) << n;
    EXPECT_EQ(w.to_json()["base"], 3);
}

TEST(AnsweredWindow, MalformedJsonIsRefused) {
    using nlohmann::json;
    EXPECT_FALSE(AnsweredWindow::from_json(json::parse(R"({"base":1})")));
    EXPECT_FALSE(AnsweredWindow::from_json(json::parse(R"({"base":-1,"bits":""})")));
    EXPECT_FALSE(AnsweredWindow::from_json(json::parse(R"({"base":1,"bits":"xyz"})")));
    EXPECT_FALSE(AnsweredWindow::from_json(json::parse(R"({"base":1,"bits":"0F"})")));  // upper case: not ours
    EXPECT_FALSE(AnsweredWindow::from_json(json{{"base", 1}, {"bits", std::string(1000, '1')}}));
    EXPECT_FALSE(AnsweredWindow::from_json(json{{"base", uint64_t{1} << 60}, {"bits", ""}}));
}

TEST(AnsweredStreams, StreamsAreBoundedAndTheLeastRecentlyUsedIsForgotten) {
    AnsweredStreams s;
    for (std::size_t i = 0; i <= AnsweredStreams::kMaxStreams; ++i) s.record("s" + std::to_string(i), 1);
    EXPECT_EQ(s.streams(), AnsweredStreams::kMaxStreams);
    EXPECT_FALSE(s.answered("s0", 1));  // forgotten
    EXPECT_TRUE(s.answered("s1", 1));
    EXPECT_EQ(s.served(), AnsweredStreams::kMaxStreams + 1);
    auto back = AnsweredStreams::from_json(s.to_json());
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->answered("s4", 1));
    EXPECT_EQ(back->served(), s.served());
}

TEST(AnsweredStreams, StreamMetLateTracksOnlyTheNumbersJustBefore) {
    AnsweredStreams s;
    s.record("late", 5000);
    EXPECT_TRUE(s.answered("late", 5000 - AnsweredWindow::kWindow));  // before what it tracks
    EXPECT_FALSE(s.answered("late", 4999));                           // a resend it can still answer
}

TEST(AnsweredStreams, TooManyOrBadStreamsAreRefused) {
    nlohmann::json j = {{"served", 1}, {"streams", nlohmann::json::object()}};
    for (int i = 0; i <= static_cast<int>(AnsweredStreams::kMaxStreams); ++i)
        j["streams"]["s" + std::to_string(i)] = {{"base", 1}, {"bits", ""}};
    EXPECT_FALSE(AnsweredStreams::from_json(j));
    j = {{"served", 1}, {"streams", {{"bad id!", {{"base", 1}, {"bits", ""}}}}}};
    EXPECT_FALSE(AnsweredStreams::from_json(j));
}

TEST(PairMessage, RoundTripKeepsEveryField) {
    PairMessage m;
    m.type = PairMessage::Type::Handover;
    m.pair = "svc";
    m.node = "ha-1";
    m.role = Role::HandingOver;
    m.seq = 42;
    m.epoch = 7;
    m.priority = 200;
    m.to = "ha-2";
    m.state = AnsweredStreams();
    m.state->record("c1", 1);
    std::string text = encode(m);
    EXPECT_LE(text.size(), 3050u);
    EXPECT_EQ(text.find('\n'), std::string::npos);
    std::string why;
    auto back = decode(text.data(), text.size(), &why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(back->type, PairMessage::Type::Handover);
    EXPECT_EQ(back->node, "ha-1");
    EXPECT_EQ(back->role, Role::HandingOver);
    EXPECT_EQ(back->seq, 42u);
    EXPECT_EQ(back->epoch, 7u);
    EXPECT_EQ(back->priority, 200);
    EXPECT_EQ(back->to, "ha-2");
    ASSERT_TRUE(back->state);
    EXPECT_TRUE(back->state->answered("c1", 1));
}

TEST(PairMessage, FullStateFitsOneBroadcast) {
    PairMessage m;
    m.pair = std::string(32, 'p');
    m.node = std::string(32, 'n');
    m.to = std::string(32, 't');
    m.type = PairMessage::Type::Handover;
    m.seq = m.epoch = (uint64_t{1} << 53) - 1;
    m.state = AnsweredStreams();
    // Every stream with a window whose every other bit is set: the largest state.
    for (std::size_t s = 0; s < AnsweredStreams::kMaxStreams; ++s)
        for (uint64_t n = 3; n <= AnsweredWindow::kWindow; n += 2)
            m.state->record(std::string(AnsweredStreams::kMaxStreamId, static_cast<char>('a' + s)), n);
    EXPECT_LE(encode(m).size(), 3050u);
}

TEST(PairMessage, OtherBroadcastsAndBrokenOnesAreRefusedWithAReason) {
    std::string why;
    for (std::string bad : {
             std::string("hello"),
             std::string(R"({"pair":"p"})"),
             std::string(R"({"pair":"p","node":"n","type":"coup","role":"active","seq":1,"epoch":1,"priority":1})"),
             std::string(R"({"pair":"p","node":"n","type":"heartbeat","role":"king","seq":1,"epoch":1,"priority":1})"),
             std::string(
                 R"({"pair":"p","node":"n","type":"heartbeat","role":"active","seq":-1,"epoch":1,"priority":1})"),
             std::string(
                 R"({"pair":"p","node":"n","type":"heartbeat","role":"active","seq":1,"epoch":1,"priority":999})"),
             std::string(R"({"pair":"p","node":"n","type":"handover","role":"active","seq":1,"epoch":1,"priority":1})"),
             std::string(R"({"pair":"p","node":")") + std::string(100, 'x') +
                 R"(","type":"heartbeat","role":"active","seq":1,"epoch":1,"priority":1})",
         }) {
        why.clear();
        EXPECT_FALSE(decode(bad.data(), bad.size(), &why)) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
}

TEST(ServiceWire, RequestsAndAnswersParseAndBadOnesAreRefused) {
    auto r = parse_request("REQ c1 17", 9);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stream, "c1");
    EXPECT_EQ(r->n, 17u);
    std::string answer = format_answer({"c1", 17, "ha-2", 3});
    auto a = parse_answer(answer.data(), answer.size());
    ASSERT_TRUE(a);
    EXPECT_EQ(a->node, "ha-2");
    EXPECT_EQ(a->epoch, 3u);
    for (std::string bad : {"", "REQ", "REQ c1", "REQ c1 0", "REQ c1 -1", "REQ c1 99999999999999999", "REQ bad/id 1",
                            "REQ c1 1 extra", "GET c1 1"})
        EXPECT_FALSE(parse_request(bad.data(), bad.size())) << bad;
    std::string long_one = "REQ c1 " + std::string(200, '1');
    EXPECT_FALSE(parse_request(long_one.data(), long_one.size()));
}
