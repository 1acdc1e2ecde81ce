#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gsdk/json_line.h"

using gsdk::LineSplitter;

namespace {
struct Collected {
    std::vector<std::string> lines;
    std::vector<std::size_t> oversize;
};

Collected feed_chunks(LineSplitter& s, const std::vector<std::string>& chunks) {
    Collected c;
    for (const auto& chunk : chunks)
        s.feed(
            chunk, [&](std::string_view l) { c.lines.emplace_back(l); },
            [&](std::size_t n) { c.oversize.push_back(n); });
    return c;
}
}  // namespace

TEST(LineSplitter, HeartbeatFramingWithLeadingAndTrailingNewline) {
    LineSplitter s;
    auto c = feed_chunks(s, {"\n{\"a\":1}\n\n{\"b\":2}\n"});
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(LineSplitter, MessagingFramingSplitAcrossWrites) {
    LineSplitter s;
    auto c = feed_chunks(s, {"{\"ver", "sion\":2,", "\"x\":1}\n{\"y\"", ":2}\n"});
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"version\":2,\"x\":1}", "{\"y\":2}"}));
}

TEST(LineSplitter, EveryByteSeparately) {
    LineSplitter s;
    std::string text = "\n{\"k\":\"v\"}\n{\"k\":2}\n";
    std::vector<std::string> chunks;
    for (char ch : text) chunks.emplace_back(1, ch);
    auto c = feed_chunks(s, chunks);
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"k\":\"v\"}", "{\"k\":2}"}));
}

TEST(LineSplitter, PartialLineIsHeldUntilItsNewline) {
    LineSplitter s;
    auto c = feed_chunks(s, {"{\"a\":1"});
    EXPECT_TRUE(c.lines.empty());
    EXPECT_EQ(s.buffered(), 6u);
}

TEST(LineSplitter, OversizedLineIsDroppedAndTheNextOneSurvives) {
    LineSplitter s(16);
    std::string big(40, 'x');
    auto c = feed_chunks(s, {big.substr(0, 10), big.substr(10) + "\n{\"ok\":1}\n"});
    ASSERT_EQ(c.oversize.size(), 1u);
    EXPECT_EQ(c.oversize[0], 40u);
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"ok\":1}"}));
}

TEST(LineSplitter, ResetForgetsAPartialLine) {
    LineSplitter s;
    feed_chunks(s, {"{\"half"});
    s.reset();
    auto c = feed_chunks(s, {"{\"whole\":1}\n"});
    EXPECT_EQ(c.lines, (std::vector<std::string>{"{\"whole\":1}"}));
}

TEST(JsonLine, ParseRejectsNonObjectsAndGarbage) {
    std::string err;
    EXPECT_FALSE(gsdk::parse_json_object("[1,2]", &err));
    EXPECT_EQ(err, "JSON value is not an object");
    EXPECT_FALSE(gsdk::parse_json_object("{\"a\":", &err));
    EXPECT_EQ(err, "not valid JSON");
    EXPECT_TRUE(gsdk::parse_json_object("{\"a\":1}", &err));
}

TEST(JsonLine, FrameIsNewlineDelimitedAndFreeTextHasNoRawNewline) {
    nlohmann::json j = {{"log_msg", gsdk::one_line("two\nlines")}};
    EXPECT_EQ(gsdk::frame_json_line(j), "\n{\"log_msg\":\"two lines\"}\n");
}
