#include "legacy_datagram.h"

#include <cstddef>
#include <cstring>

namespace gsdk::sg {

sockaddr_un abstract_address(const std::string& name, socklen_t* len) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::size_t n = std::min(name.size(), sizeof a.sun_path - 1);
    std::memcpy(a.sun_path + 1, name.data(), n);
    // No trailing NUL: with one it would be a different name (trip-wire of the original).
    *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
    return a;
}

std::optional<std::string> abstract_name(const sockaddr_un& address, socklen_t len) {
    constexpr socklen_t base = offsetof(sockaddr_un, sun_path);
    if (len <= base + 1 || len > static_cast<socklen_t>(sizeof address) || address.sun_family != AF_UNIX ||
        address.sun_path[0] != '\0')
        return std::nullopt;
    return std::string(address.sun_path + 1, len - base - 1);
}

std::variant<LegacyDatagram, LegacyDatagramError> parse_legacy_datagram(const sockaddr_un& from, socklen_t from_len,
                                                                        std::string_view bytes) {
    auto sender = abstract_name(from, from_len);
    if (!sender) return LegacyDatagramError{"the sender has no abstract name to answer to"};
    if (!sgwire::valid_address(*sender)) return LegacyDatagramError{"the sender's name is not a valid address"};
    auto decoded = sgwire::parse_envelope(bytes, sgwire::Origin::LocalSender);
    if (auto* bad = std::get_if<sgwire::EnvelopeError>(&decoded)) return LegacyDatagramError{bad->detail};
    LegacyDatagram d;
    d.sender = *sender;
    d.envelope = std::move(std::get<sgwire::Envelope>(decoded));
    d.envelope.source_addr = d.sender;
    return d;
}

}  // namespace gsdk::sg
