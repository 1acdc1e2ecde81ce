// The bytes a JSON string carries as they are, both ways: printable ASCII
// (DEL included) but quote and backslash. Payloads are mostly such runs, so
// they are found eight bytes at a time. And the short escapes of the rest.
// Private to json_quick_*.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace gsdk::detail {

inline constexpr std::array<bool, 256> kPlainJsonByte = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
    return t;
}();

// The short escapes, both ways: kUnescaped['n'] is '\n' (and '/' is read
// as itself, never written so); kEscapeLetter['\n'] is 'n'. 0: none.
inline constexpr std::pair<char, char> kShortEscapes[] = {{'"', '"'},  {'\\', '\\'}, {'b', '\b'}, {'f', '\f'},
                                                          {'n', '\n'}, {'r', '\r'},  {'t', '\t'}};
inline constexpr std::array<char, 256> kUnescaped = [] {
    std::array<char, 256> t{};
    for (auto [letter, byte] : kShortEscapes) t[static_cast<unsigned char>(letter)] = byte;
    t['/'] = '/';
    return t;
}();
inline constexpr std::array<char, 256> kEscapeLetter = [] {
    std::array<char, 256> t{};
    for (auto [letter, byte] : kShortEscapes) t[static_cast<unsigned char>(byte)] = letter;
    return t;
}();

// True if any of the eight bytes of w is not plain. The classic zero-byte
// tests: exact as to "any", so a word that passes holds only plain bytes.
inline bool has_special_byte(uint64_t w) {
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
    uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    return (below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\')) | (w & highs)) != 0;
}

// The first byte at or after p that is not plain, or end.
inline const unsigned char* plain_run_end(const unsigned char* p, const unsigned char* end) {
    while (end - p >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        if (has_special_byte(w)) break;
        p += 8;
    }
    while (p != end && kPlainJsonByte[*p]) ++p;
    return p;
}

}  // namespace gsdk::detail
