// StatusRound: one host round for every asker, joiners get what came so
// far, stale answers and oversized answers, host loss and refusal.
#include <gtest/gtest.h>

#include <cerrno>

#include "status_round.h"

namespace gsdk::sg {
namespace {

struct Record {
    std::vector<std::string> members;
    int done_count = -1;
    int error = 0;
    std::string reason;
};

class RecordingAsker : public StatusAsker {
public:
    explicit RecordingAsker(Record& r) : r_(r) {}
    void member(const std::string& json) override { r_.members.push_back(json); }
    void done(uint32_t count) override { r_.done_count = static_cast<int>(count); }
    void failed(int error, const std::string& reason) override {
        r_.error = error;
        r_.reason = reason;
    }

private:
    Record& r_;
};

class StatusRoundTest : public ::testing::Test {
protected:
    EventLoop loop;
    std::vector<int64_t> sent;
    int send_result = 0;
    StatusRound round{loop, StatusRound::Limits{Millis(60000), 3, 100}, [this](int64_t seq) {
                          sent.push_back(seq);
                          return send_result;
                      }};
    void ask(const std::string& key, Record& r) { round.ask(key, std::make_unique<RecordingAsker>(r)); }
};

TEST_F(StatusRoundTest, OneRoundServesEveryAskerAndJoinersCatchUp) {
    Record a, b;
    ask("a", a);
    ASSERT_EQ(1u, sent.size());
    round.response(sent[0], "{\"m\":1}");
    ask("b", b);  // joins: gets member 1 at once, no second query
    EXPECT_EQ(1u, sent.size());
    EXPECT_EQ(std::vector<std::string>{"{\"m\":1}"}, b.members);
    round.response(sent[0] + 1, "{\"stale\":1}");
    round.response(sent[0], "{\"m\":2}");
    round.response_done(sent[0]);
    for (Record* r : {&a, &b}) {
        EXPECT_EQ(2, r->done_count);
        EXPECT_EQ((std::vector<std::string>{"{\"m\":1}", "{\"m\":2}"}), r->members);
    }
    EXPECT_EQ(1u, round.stale_answers());
    EXPECT_FALSE(round.running());
    Record c;
    ask("c", c);
    ASSERT_EQ(2u, sent.size());
    EXPECT_NE(sent[0], sent[1]) << "a new round has a new seq";
}

TEST_F(StatusRoundTest, AskingAgainReplacesTheEarlierQuestion) {
    Record first, second;
    ask("a", first);
    round.response(sent[0], "{}");
    ask("a", second);
    round.response_done(sent[0]);
    EXPECT_EQ(-1, first.done_count) << "the replaced asker hears nothing more";
    EXPECT_EQ(1, second.done_count);
    EXPECT_EQ(1u, second.members.size());
}

TEST_F(StatusRoundTest, FailuresReachEveryAskerWithTheirCause) {
    Record a, b, c, d;
    ask("a", a);
    round.host_lost();
    EXPECT_EQ(EHOSTDOWN, a.error);
    ask("b", b);
    round.host_refused("no such group");
    EXPECT_EQ(EPROTO, b.error);
    EXPECT_NE(std::string::npos, b.reason.find("no such group"));
    ask("c", c);
    for (int i = 0; i < 4; ++i) round.response(sent.back(), "{}");
    EXPECT_EQ(EMSGSIZE, c.error) << "over 3 members";
    send_result = -EHOSTDOWN;
    ask("d", d);
    EXPECT_EQ(EHOSTDOWN, d.error);
    EXPECT_FALSE(round.running());
}

}  // namespace
}  // namespace gsdk::sg
