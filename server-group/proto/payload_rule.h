// The broadcast payload rule (docs/server-group-api.md): what an application
// sends arrives byte for byte at the other members through the JSON framing.
// Checked by the library before sending and again by the daemon for every
// source (our library, the original library's datagrams).
#pragma once

#include <cstddef>

namespace gsdk::sg {

enum class PayloadVerdict {
    Ok,
    TooLong,       // over kMaxPayload bytes: -EMSGSIZE
    HasNul,        // a C string ends there; legacy receivers would cut it: -EINVAL
    HasLineBreak,  // LF or CR: the protocol's payload carries no newline: -EINVAL
    InvalidUtf8,   // JSON strings are Unicode text; bytes that are not would be replaced: -EINVAL
};

PayloadVerdict check_payload(const void* data, std::size_t len);
// 0, EMSGSIZE or EINVAL.
int payload_errno(PayloadVerdict verdict);
const char* describe(PayloadVerdict verdict);
// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const unsigned char* data, std::size_t len);

}  // namespace gsdk::sg
