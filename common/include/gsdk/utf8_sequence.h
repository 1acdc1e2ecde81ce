// One UTF-8 sequence, as RFC 3629 allows it (no overlong forms, no
// surrogates, nothing above U+10FFFF): the set nlohmann's reader accepts in a
// string and its writer passes through unreplaced, and the set a server-group
// payload may hold.
#pragma once

#include <cstddef>

namespace gsdk::detail {

// The length of the valid sequence starting at p (whose first byte is
// 0x80 or above), or 0 if the bytes up to end are not one.
inline std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
    auto in = [](unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; };
    std::size_t left = static_cast<std::size_t>(end - p);
    unsigned char c = p[0];
    if (in(c, 0xC2, 0xDF)) return left >= 2 && in(p[1], 0x80, 0xBF) ? 2 : 0;
    if (in(c, 0xE0, 0xEF)) {
        if (left < 3) return 0;
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return in(p[1], lo, hi) && in(p[2], 0x80, 0xBF) ? 3 : 0;
    }
    if (in(c, 0xF0, 0xF4)) {
        if (left < 4) return 0;
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return in(p[1], lo, hi) && in(p[2], 0x80, 0xBF) && in(p[3], 0x80, 0xBF) ? 4 : 0;
    }
    return 0;  // ASCII, a continuation byte first, C0/C1 (overlong) or F5..FF
}

}  // namespace gsdk::detail
