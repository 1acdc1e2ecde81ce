// The quick JSON reader and writer against nlohmann's, on the edges a
// hand-written scanner gets wrong: it must build the very same value or
// leave the text to nlohmann, and write the very same bytes or leave the
// value to nlohmann.
#include <gtest/gtest.h>

#include <string>

#include "gsdk/json_line.h"
#include "gsdk/json_quick.h"
#include "json_exact.h"

using gsdk::dump_compact;
using gsdk::parse_json_object;
using gsdk::quick_dump;
using gsdk::quick_parse_object;
using gsdk::test::same_json;
using nlohmann::json;

namespace {

json full_parse(std::string_view text) { return json::parse(text, nullptr, false); }

// The quick reader decides `text` and builds exactly what nlohmann builds.
void expect_quick_and_same(std::string_view text) {
    auto quick = quick_parse_object(text);
    ASSERT_TRUE(quick) << text;
    json full = full_parse(text);
    ASSERT_FALSE(full.is_discarded()) << text;
    EXPECT_TRUE(same_json(*quick, full)) << text << "\nquick: " << quick->dump() << "\nfull: " << full.dump();
}

// The quick reader leaves `text` to nlohmann; parse_json_object still answers nlohmann's way.
void expect_deferred(std::string_view text) {
    EXPECT_FALSE(quick_parse_object(text)) << text;
    std::string error;
    auto answer = parse_json_object(text, &error);
    json full = full_parse(text);
    if (full.is_discarded()) {
        EXPECT_FALSE(answer) << text;
        EXPECT_EQ(error, "not valid JSON") << text;
    } else if (!full.is_object()) {
        EXPECT_FALSE(answer) << text;
        EXPECT_EQ(error, "JSON value is not an object") << text;
    } else {
        ASSERT_TRUE(answer) << text;
        EXPECT_TRUE(same_json(*answer, full)) << text;
    }
}

std::string nlohmann_dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

const char* const kBroadcastLine =
    R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp",)"
    R"("data":{"version":2,"msg_type":"broadcast","source_instance":"vm-1","data":"hello \"group\""}})";

}  // namespace

TEST(QuickJsonRead, HostBroadcastLineAsNlohmannBuildsIt) {
    expect_quick_and_same(kBroadcastLine);
    auto quick = quick_parse_object(kBroadcastLine);
    ASSERT_TRUE(quick);
    EXPECT_TRUE((*quick)["version"].is_number_unsigned());
    EXPECT_EQ((*quick)["data"]["data"], "hello \"group\"");
}

TEST(QuickJsonRead, EveryShortEscapeAndUnicodeEscape) {
    expect_quick_and_same(R"({"s":"\" \\ \/ \b \f \n \r \t"})");
    expect_quick_and_same(R"({"s":"caf\u00e9 \u00E9 \u20ac \uFFFF"})");
    auto quick = quick_parse_object(R"({"s":"\u00e9\u20ac"})");
    ASSERT_TRUE(quick);
    EXPECT_EQ((*quick)["s"], "\xC3\xA9\xE2\x82\xAC");
}

TEST(QuickJsonRead, SurrogatePairsMakeOneCharacterAndLoneOnesAreNlohmanns) {
    expect_quick_and_same(R"({"s":"\ud83d\ude00 \uD800\uDC00 \uDBFF\uDFFF"})");
    auto quick = quick_parse_object(R"({"s":"\ud83d\ude00"})");
    ASSERT_TRUE(quick);
    EXPECT_EQ((*quick)["s"], "\xF0\x9F\x98\x80");
    for (const char* text : {R"({"s":"\ud83d"})", R"({"s":"\ude00"})", R"({"s":"\ud83d\u0041"})", R"({"s":"\ud83dx"})",
                             R"({"s":"\ud83d\"})", R"({"s":"\u12"})", R"({"s":"\u12g4"})"})
        expect_deferred(text);
}

TEST(QuickJsonRead, NulBytesEscapedAreKeptAndRawAreRefused) {
    auto quick = quick_parse_object(R"({"s":"a\u0000b"})");
    ASSERT_TRUE(quick);
    EXPECT_EQ((*quick)["s"].get<std::string>(), std::string("a\0b", 3));
    expect_quick_and_same(R"({"s":"a\u0000b"})");
    expect_deferred(std::string("{\"s\":\"a\0b\"}", 11));
    expect_deferred(std::string("{\"s\":1}\0", 8));
    expect_deferred("{\"s\":\"a\tb\"}");         // raw control characters are not JSON
    expect_quick_and_same("{\"s\":\"a\x7f\"}");  // but DEL is
}

TEST(QuickJsonRead, Utf8KeptWhenValidAndLeftToNlohmannWhenNot) {
    expect_quick_and_same("{\"s\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"}");
    for (const char* bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\x80",
                            "\xC3", "\xE2\x82", "\xFF"})
        expect_deferred(std::string("{\"s\":\"") + bad + "\"}");
}

TEST(QuickJsonRead, LargestLegalBroadcastEscapedEveryByte) {
    // 3050 bytes of control characters, each written \u00XX: the longest
    // broadcast payload a line can carry.
    std::string escaped, raw;
    for (int i = 0; i < 3050; ++i) {
        char c = static_cast<char>(1 + i % 31);
        raw.push_back(c);
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        escaped += buf;
    }
    std::string text = R"({"version":2,"data":{"msg_type":"broadcast","data":")" + escaped + "\"}}";
    expect_quick_and_same(text);
    EXPECT_EQ((*quick_parse_object(text))["data"]["data"], raw);
}

TEST(QuickJsonRead, EveryTruncationAnswersAsNlohmann) {
    std::string line = kBroadcastLine;
    for (std::size_t n = 0; n < line.size(); ++n) expect_deferred(std::string_view(line).substr(0, n));
    expect_deferred(line + "}");
    expect_deferred(line + ",");
    expect_quick_and_same(" \t\r\n" + line + " \r\t\n");
}

TEST(QuickJsonRead, FieldsInAnyOrderAndDuplicateKeys) {
    expect_quick_and_same(R"({"data":{"data":"p","msg_type":"broadcast"},"dest_addr":"b","version":2})");
    expect_quick_and_same(R"({"version":2,"version":3})");
    expect_quick_and_same(R"({"a":"first","a":{"n":[1,2]},"a":"last"})");
    EXPECT_EQ((*quick_parse_object(R"({"a":1,"a":"last"})"))["a"], "last");
}

TEST(QuickJsonRead, NumbersKeepNlohmannsTypes) {
    expect_quick_and_same(R"({"a":0,"b":-0,"c":2,"d":-2,"e":999999999999999999,"f":-999999999999999999})");
    EXPECT_TRUE((*quick_parse_object(R"({"a":-0})"))["a"].is_number_integer());
    EXPECT_FALSE((*quick_parse_object(R"({"a":-0})"))["a"].is_number_unsigned());
    // Floats, long integers and what is not a number are nlohmann's.
    for (const char* text :
         {R"({"a":1.5})", R"({"a":1e3})", R"({"a":18446744073709551615})", R"({"a":18446744073709551616})",
          R"({"a":-9223372036854775809})", R"({"a":01})", R"({"a":-})", R"({"a":+1})", R"({"a":.5})", R"({"a":1.})"})
        expect_deferred(text);
}

TEST(QuickJsonRead, LiteralsArraysAndNesting) {
    expect_quick_and_same(R"({"t":true,"f":false,"n":null,"a":[],"o":{},"m":[1,"x",[true],{"k":null}]})");
    expect_quick_and_same(R"({ "a" : [ 1 , 2 ] , "b" : { } })");
    for (const char* text : {R"({"t":tru})", R"({"t":truex})", R"({"a":[1,]})", R"({"a":[1 2]})", R"({,})",
                             R"({"a":1,})", R"({"a" 1})", R"({a:1})", R"({'a':1})", R"({"a":1}{"b":2})"})
        expect_deferred(text);
    std::string deep(100, '[');
    deep = R"({"a":)" + deep + std::string(100, ']') + "}";
    expect_deferred(deep);  // deeper than the quick reader goes: nlohmann's answer
    std::string shallow = R"({"a":)" + std::string(60, '[') + std::string(60, ']') + "}";
    expect_quick_and_same(shallow);
}

TEST(QuickJsonRead, WhatIsNotAnObjectIsNlohmanns) {
    for (const char* text : {"", " ", "[]", "\"s\"", "2", "null", "\xEF\xBB\xBF{\"a\":1}", "{\"a\":1} x", "/*c*/{}"})
        expect_deferred(text);
}

TEST(QuickJsonWrite, SameBytesAsNlohmannsCompactDump) {
    std::string every_ascii;
    for (int c = 1; c < 0x80; ++c) every_ascii.push_back(static_cast<char>(c));
    json v = {{"ascii", every_ascii},
              {std::string("k\"\\\n\x01", 5), "key escaped"},
              {"nul", std::string("a\0b", 3)},
              {"utf8", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
              {"numbers", {0, -1, 18446744073709551615ull, INT64_MIN, 1.5, 1e300, -0.0}},
              {"literals", {true, false, nullptr}},
              {"nested", {{"a", json::array()}, {"o", json::object()}}}};
    std::string out = "prefix";
    ASSERT_TRUE(quick_dump(v, &out));
    EXPECT_EQ(out, "prefix" + nlohmann_dump(v));
    EXPECT_EQ(dump_compact(v), nlohmann_dump(v));
    EXPECT_EQ(gsdk::frame_json_line(v), "\n" + nlohmann_dump(v) + "\n");
}

TEST(QuickJsonWrite, InvalidUtf8IsLeftToNlohmannsReplacement) {
    for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xFF", "ok\xC3", "\xF4\x90\x80\x80"}) {
        json v = {{"s", std::string("x") + bad + "y"}};
        std::string out = "kept";
        EXPECT_FALSE(quick_dump(v, &out));
        EXPECT_EQ(out, "kept");
        EXPECT_EQ(dump_compact(v), nlohmann_dump(v));
        json key_bad = {{std::string("k") + bad, 1}};
        EXPECT_EQ(dump_compact(key_bad), nlohmann_dump(key_bad));
    }
}

TEST(QuickJsonWrite, WhatItWritesItReadsBack) {
    json v = full_parse(kBroadcastLine);
    std::string text = dump_compact(v);
    auto again = quick_parse_object(text);
    ASSERT_TRUE(again);
    EXPECT_TRUE(same_json(*again, v));
}
