#include "legacy_heartbeat_frame.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace gsdk::heartbeat::legacy {

namespace {

// Header offsets.
constexpr std::size_t kOffVersion = 8;
constexpr std::size_t kOffRevision = 9;
constexpr std::size_t kOffType = 10;
constexpr std::size_t kOffSequence = 12;
constexpr std::size_t kOffSize = 16;

void put32(Frame& f, std::size_t body_off, uint32_t v) { std::memcpy(f.data() + kHeaderSize + body_off, &v, 4); }
void put_text(Frame& f, std::size_t body_off, std::size_t field, const std::string& s) {
    std::size_t n = std::min(s.size(), field - 1);  // the field keeps its NUL
    std::memcpy(f.data() + kHeaderSize + body_off, s.data(), n);
}
uint32_t get32(const Frame& f, std::size_t body_off) {
    uint32_t v;
    std::memcpy(&v, f.data() + kHeaderSize + body_off, 4);
    return v;
}
std::string get_text(const Frame& f, std::size_t body_off, std::size_t field) {
    const char* p = f.data() + kHeaderSize + body_off;
    return std::string(p, ::strnlen(p, field));
}

Message decode_body(Type type, const Frame& f) {
    switch (type) {
    case Type::Init:
        return Init{get_text(f, 0, kNameMax),
                    get32(f, 40),
                    get32(f, 44),
                    get32(f, 48),
                    get32(f, 52),
                    get32(f, 56),
                    get32(f, 60)};
    case Type::InitAck:
        return InitAck{get32(f, 0)};
    case Type::Final:
        return Final{get_text(f, 0, kLogMax)};
    case Type::Challenge:
        return Challenge{get32(f, 0)};
    case Type::ChallengeResponse:
        return ChallengeResponse{get32(f, 0), get32(f, 4), get32(f, 8), get_text(f, 12, kLogMax)};
    case Type::ActionNotify:
        return ActionNotify{get32(f, 0), get32(f, 4), get32(f, 8)};
    case Type::ActionResponse:
        return ActionResponse{get32(f, 0), get32(f, 4), get32(f, 8), get32(f, 12), get_text(f, 16, kLogMax)};
    }
    return Final{};  // not reached: the type was checked
}

}  // namespace

// The variant lists the messages in wire type order.
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(Type::Challenge), Message>, Challenge>);
static_assert(std::variant_size_v<Message> == static_cast<std::size_t>(Type::ActionResponse) + 1);
Type type_of(const Message& message) { return static_cast<Type>(message.index()); }

const char* name_of(Type type) {
    static constexpr const char* kNames[] = {
        "INIT", "INIT_ACK", "FINAL", "CHALLENGE", "CHALLENGE_RESPONSE", "ACTION_NOTIFY", "ACTION_RESPONSE"};
    auto i = static_cast<std::size_t>(type);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

Frame encode(const Message& message, uint32_t sequence) {
    Frame f{};
    std::memcpy(f.data(), kMagic.data(), kMagic.size());
    f[kOffVersion] = static_cast<char>(kVersion);
    f[kOffRevision] = static_cast<char>(kRevision);
    auto type = static_cast<uint16_t>(type_of(message));
    std::memcpy(f.data() + kOffType, &type, 2);
    std::memcpy(f.data() + kOffSequence, &sequence, 4);
    uint32_t size = kFrameSize;
    std::memcpy(f.data() + kOffSize, &size, 4);
    std::visit(
        [&f](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Init>) {
                put_text(f, 0, kNameMax, m.name);
                put32(f, 40, m.heartbeat_interval_ms);
                put32(f, 44, m.vote_secs);
                put32(f, 48, m.shutdown_notice_secs);
                put32(f, 52, m.suspend_notice_secs);
                put32(f, 56, m.resume_notice_secs);
                put32(f, 60, m.corrective_action);
            } else if constexpr (std::is_same_v<T, InitAck>) {
                put32(f, 0, m.accepted);
            } else if constexpr (std::is_same_v<T, Final>) {
                put_text(f, 0, kLogMax, m.log_msg);
            } else if constexpr (std::is_same_v<T, Challenge>) {
                put32(f, 0, m.challenge);
            } else if constexpr (std::is_same_v<T, ChallengeResponse>) {
                put32(f, 0, m.challenge);
                put32(f, 4, m.health);
                put32(f, 8, m.corrective_action);
                put_text(f, 12, kLogMax, m.log_msg);
            } else if constexpr (std::is_same_v<T, ActionNotify>) {
                put32(f, 0, m.invocation_id);
                put32(f, 4, m.event);
                put32(f, 8, m.notify);
            } else if constexpr (std::is_same_v<T, ActionResponse>) {
                put32(f, 0, m.invocation_id);
                put32(f, 4, m.event);
                put32(f, 8, m.notify);
                put32(f, 12, m.vote);
                put_text(f, 16, kLogMax, m.log_msg);
            }
        },
        message);
    return f;
}

std::size_t FrameReader::feed(const char* data, std::size_t len) {
    std::size_t take = std::min(len, kFrameSize - used_);
    std::memcpy(buf_.data() + used_, data, take);
    used_ += take;
    return take;
}

FrameReader::Result FrameReader::next() {
    // Every byte must belong to a frame: what does not start with the magic
    // is garbage, and a peer that sends garbage is not an original library.
    std::size_t magic_seen = std::min(used_, kMagic.size());
    if (std::memcmp(buf_.data(), kMagic.data(), magic_seen) != 0) {
        used_ = 0;
        return Error{"bytes that are not a frame header (no magic)"};
    }
    if (used_ < kHeaderSize) return std::monostate{};
    auto version = static_cast<uint8_t>(buf_[kOffVersion]);
    uint16_t type;
    std::memcpy(&type, buf_.data() + kOffType, 2);
    if (version != kVersion) {
        used_ = 0;
        return Error{"frame version " + std::to_string(version) + ", expected 2"};
    }
    if (type > static_cast<uint16_t>(Type::ActionResponse)) {
        used_ = 0;
        return Error{"unknown message type " + std::to_string(type)};
    }
    if (used_ < kFrameSize) return std::monostate{};
    used_ = 0;
    return decode_body(static_cast<Type>(type), buf_);
}

}  // namespace gsdk::heartbeat::legacy
