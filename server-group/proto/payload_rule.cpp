#include "payload_rule.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "server_group_limits.h"

namespace gsdk::sg {

bool valid_utf8(const unsigned char* s, std::size_t len) {
    std::size_t i = 0;
    while (i < len) {
        // Payloads are mostly ASCII: eight bytes at a time while no high bit is set.
        while (len - i >= 8) {
            uint64_t word;
            std::memcpy(&word, s + i, 8);
            if (word & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i == len) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t extra;
        unsigned long cp;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;  // a continuation byte first, C0/C1 (overlong) or F5..FF
        }
        if (len - i <= extra) return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            unsigned char cc = s[i + k];
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return false;  // overlong
        if (cp >= 0xD800 && cp <= 0xDFFF) return false;                                // surrogate
        if (cp > 0x10FFFF) return false;
        i += extra + 1;
    }
    return true;
}

PayloadVerdict check_payload(const void* data, std::size_t len) {
    if (len > kMaxPayload) return PayloadVerdict::TooLong;
    if (len == 0) return PayloadVerdict::Ok;
    const auto* bytes = static_cast<const unsigned char*>(data);
    if (std::memchr(bytes, '\0', len)) return PayloadVerdict::HasNul;
    if (std::memchr(bytes, '\n', len) || std::memchr(bytes, '\r', len)) return PayloadVerdict::HasLineBreak;
    if (!valid_utf8(bytes, len)) return PayloadVerdict::InvalidUtf8;
    return PayloadVerdict::Ok;
}

int payload_errno(PayloadVerdict verdict) {
    switch (verdict) {
    case PayloadVerdict::Ok:
        return 0;
    case PayloadVerdict::TooLong:
        return EMSGSIZE;
    default:
        return EINVAL;
    }
}

const char* describe(PayloadVerdict verdict) {
    switch (verdict) {
    case PayloadVerdict::Ok:
        return "valid";
    case PayloadVerdict::TooLong:
        return "longer than 3050 bytes";
    case PayloadVerdict::HasNul:
        return "contains a NUL byte";
    case PayloadVerdict::HasLineBreak:
        return "contains a line break (LF or CR)";
    case PayloadVerdict::InvalidUtf8:
        return "is not valid UTF-8";
    }
    return "?";
}

}  // namespace gsdk::sg
