// The framing that binaries built against the original libguest_heartbeat_api
// speak on the daemon's legacy stream socket (docs/protocols/legacy-binary.md,
// "Heartbeat framing" and "Heartbeat messages"): fixed 228-byte messages, a
// 20-byte header (magic "FDFDA5A5", version 2, revision, type, sequence,
// size) and a 208-byte body, integers in host byte order, strings NUL-padded.
// Both directions are here so that the daemon and the tests' own client
// (written from the same facts) share nothing but this statement of them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace gsdk::heartbeat::legacy {

inline constexpr std::size_t kFrameSize = 228;
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::string_view kMagic = "FDFDA5A5";  // 8 bytes, no NUL on the wire
inline constexpr uint8_t kVersion = 2;
inline constexpr uint8_t kRevision = 1;
inline constexpr std::size_t kNameMax = 40;  // char[40]: at most 39 characters
inline constexpr std::size_t kLogMax = 192;  // char[192]: at most 191 characters
// Challenges and invocation ids reach applications as int: keep them in 31 bits.
inline constexpr uint32_t kMaxId = 0x7fffffff;

enum class Type : uint16_t {
    Init = 0,
    InitAck = 1,
    Final = 2,
    Challenge = 3,
    ChallengeResponse = 4,
    ActionNotify = 5,
    ActionResponse = 6,
};

// Library -> daemon.
struct Init {
    std::string name;
    uint32_t heartbeat_interval_ms = 0;
    uint32_t vote_secs = 0;
    uint32_t shutdown_notice_secs = 0;
    uint32_t suspend_notice_secs = 0;
    uint32_t resume_notice_secs = 0;
    uint32_t corrective_action = 0;  // 0 unknown, 1 none, 2 reboot, 3 stop, 4 log
};
struct Final {
    std::string log_msg;
};
struct ChallengeResponse {
    uint32_t challenge = 0;
    uint32_t health = 0;  // 1 healthy, 0 not
    uint32_t corrective_action = 0;
    std::string log_msg;
};
struct ActionResponse {
    uint32_t invocation_id = 0;
    uint32_t event = 0;   // as the legacy C enum (0 unknown .. 12 cold_migrate_end)
    uint32_t notify = 0;  // 1 revocable, 2 irrevocable
    uint32_t vote = 0;    // 1 accept, 2 reject, 3 complete
    std::string log_msg;
};
// Daemon -> library.
struct InitAck {
    uint32_t accepted = 0;  // nonzero: yes
};
struct Challenge {
    uint32_t challenge = 0;
};
struct ActionNotify {
    uint32_t invocation_id = 0;
    uint32_t event = 0;
    uint32_t notify = 0;
};

using Message = std::variant<Init, InitAck, Final, Challenge, ChallengeResponse, ActionNotify, ActionResponse>;
using Frame = std::array<char, kFrameSize>;

// One whole frame: all bytes zeroed first, strings cut to fit with their NUL.
Frame encode(const Message& message, uint32_t sequence);
Type type_of(const Message& message);
const char* name_of(Type type);

// Reads frames out of a byte stream, one reader per connection. Bytes before
// a magic are garbage; a header with another version or an unknown type is a
// protocol error. What it holds is bounded by one frame.
class FrameReader {
public:
    struct Error {
        std::string why;
    };
    using Result = std::variant<std::monostate, Message, Error>;  // monostate: need more bytes

    // Appends up to `len` bytes; returns how many it took (it takes at most
    // what completes the current frame, so the caller keeps the rest).
    std::size_t feed(const char* data, std::size_t len);
    // The next message once a whole frame is in, an Error for a bad one
    // (the reader then starts afresh), or monostate.
    Result next();
    std::size_t buffered() const { return used_; }

private:
    Frame buf_{};
    std::size_t used_ = 0;
};

}  // namespace gsdk::heartbeat::legacy
