// The legacy 228-byte framing, checked against the byte offsets of
// docs/protocols/legacy-binary.md (written out here from those facts, not
// from the encoder).
#include "legacy_heartbeat_frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using namespace gsdk::heartbeat::legacy;

uint32_t u32_at(const Frame& f, std::size_t off) {
    uint32_t v;
    std::memcpy(&v, f.data() + off, 4);
    return v;
}

TEST(LegacyFrame, HeaderIsMagicVersionRevisionTypeSequenceSize) {
    Frame f = encode(Challenge{0x12345678}, 7);
    EXPECT_EQ(std::string(f.data(), 8), "FDFDA5A5");
    EXPECT_EQ(static_cast<uint8_t>(f[8]), 2);
    EXPECT_EQ(static_cast<uint8_t>(f[9]), 1);
    uint16_t type;
    std::memcpy(&type, f.data() + 10, 2);
    EXPECT_EQ(type, 3);
    EXPECT_EQ(u32_at(f, 12), 7u);
    EXPECT_EQ(u32_at(f, 16), 228u);
    EXPECT_EQ(u32_at(f, 20), 0x12345678u);
    // Little-endian host order: the low byte first.
    EXPECT_EQ(static_cast<uint8_t>(f[20]), 0x78);
    for (std::size_t i = 24; i < f.size(); ++i) ASSERT_EQ(f[i], 0) << "byte " << i << " not zeroed";
}

TEST(LegacyFrame, InitBodyOffsets) {
    Init init{"vnf-a", 1000, 11, 12, 13, 14, 2};
    Frame f = encode(init, 1);
    EXPECT_STREQ(f.data() + 20, "vnf-a");
    EXPECT_EQ(u32_at(f, 20 + 40), 1000u);
    EXPECT_EQ(u32_at(f, 20 + 44), 11u);
    EXPECT_EQ(u32_at(f, 20 + 48), 12u);
    EXPECT_EQ(u32_at(f, 20 + 52), 13u);
    EXPECT_EQ(u32_at(f, 20 + 56), 14u);
    EXPECT_EQ(u32_at(f, 20 + 60), 2u);
}

TEST(LegacyFrame, ActionResponseAndChallengeResponseOffsets) {
    Frame a = encode(ActionResponse{99, 9, 1, 2, "not now"}, 3);
    EXPECT_EQ(u32_at(a, 20), 99u);
    EXPECT_EQ(u32_at(a, 24), 9u);
    EXPECT_EQ(u32_at(a, 28), 1u);
    EXPECT_EQ(u32_at(a, 32), 2u);
    EXPECT_STREQ(a.data() + 36, "not now");
    Frame c = encode(ChallengeResponse{5, 0, 3, "sick"}, 4);
    EXPECT_EQ(u32_at(c, 20), 5u);
    EXPECT_EQ(u32_at(c, 24), 0u);
    EXPECT_EQ(u32_at(c, 28), 3u);
    EXPECT_STREQ(c.data() + 32, "sick");
}

TEST(LegacyFrame, StringsAreCutToKeepTheirNul) {
    Frame f = encode(Init{std::string(60, 'n')}, 1);
    EXPECT_EQ(std::strlen(f.data() + 20), 39u);
    Frame g = encode(Final{std::string(300, 'l')}, 1);
    EXPECT_EQ(std::strlen(g.data() + 20), 191u);
}

TEST(LegacyFrame, ReaderTakesFramesWhateverTheChunking) {
    Frame one = encode(Init{"a", 500}, 1), two = encode(Final{"bye"}, 2);
    std::string stream(one.data(), one.size());
    stream.append(two.data(), two.size());
    for (std::size_t chunk : {1u, 7u, 20u, 227u, 228u, 456u}) {
        FrameReader r;
        int seen = 0;
        for (std::size_t at = 0; at < stream.size();) {
            std::size_t n = std::min(chunk, stream.size() - at);
            std::size_t used = 0;
            while (used < n) {
                used += r.feed(stream.data() + at + used, n - used);
                auto res = r.next();
                ASSERT_FALSE(std::holds_alternative<FrameReader::Error>(res)) << chunk;
                if (auto* m = std::get_if<Message>(&res)) {
                    if (seen == 0) {
                        EXPECT_EQ(std::get<Init>(*m).heartbeat_interval_ms, 500u);
                    } else {
                        EXPECT_EQ(std::get<Final>(*m).log_msg, "bye");
                    }
                    ++seen;
                }
            }
            at += n;
        }
        EXPECT_EQ(seen, 2) << "chunk " << chunk;
        EXPECT_EQ(r.buffered(), 0u);
    }
}

TEST(LegacyFrame, ReaderRefusesGarbageOtherVersionsAndUnknownTypes) {
    FrameReader r;
    r.feed("HELLO", 5);
    EXPECT_TRUE(std::holds_alternative<FrameReader::Error>(r.next()));
    Frame v = encode(Final{}, 1);
    v[8] = 3;
    r.feed(v.data(), v.size());
    EXPECT_TRUE(std::holds_alternative<FrameReader::Error>(r.next()));
    Frame t = encode(Final{}, 1);
    uint16_t bad = 9;
    std::memcpy(t.data() + 10, &bad, 2);
    r.feed(t.data(), t.size());
    auto res = r.next();
    ASSERT_TRUE(std::holds_alternative<FrameReader::Error>(res));
    EXPECT_NE(std::get<FrameReader::Error>(res).why.find("type 9"), std::string::npos);
    // A partial magic is not garbage yet.
    FrameReader p;
    p.feed("FDFD", 4);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(p.next()));
}

}  // namespace
