#include "payload_rule.h"

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "gsdk/utf8_sequence.h"
#include "server_group_limits.h"

namespace gsdk::sg {

bool valid_utf8(const unsigned char* s, std::size_t len) {
    const unsigned char* p = s;
    const unsigned char* end = s + len;
    while (p != end) {
        // Payloads are mostly ASCII: eight bytes at a time while no high bit is set.
        while (end - p >= 8) {
            uint64_t word;
            std::memcpy(&word, p, 8);
            if (word & 0x8080808080808080ULL) break;
            p += 8;
        }
        if (p == end) break;
        if (*p < 0x80) {
            ++p;
            continue;
        }
        std::size_t n = detail::utf8_sequence_length(p, end);
        if (n == 0) return false;
        p += n;
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
