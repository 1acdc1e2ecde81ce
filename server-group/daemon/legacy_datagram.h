// The original libraries' datagrams (docs/server-group.md, "Binaries with
// the original library"): AF_UNIX SOCK_DGRAM with abstract names, a NUL
// then the name with no trailing NUL (address length 2 + 1 + strlen). The
// agent binds "cgcs.messaging"; libservergroup binds "cgcs.server_grp". A
// datagram is one JSON text {"data":{...},"version":2,"dest_addr":D}; the
// sender's own name is its address. Pure functions, so the fuzzer reaches them.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "messaging_envelope.h"

namespace gsdk::sg {

// The address of an abstract name; *len gets the exact length to pass.
sockaddr_un abstract_address(const std::string& name, socklen_t* len);
// The name of an abstract address (nullopt: unbound, or a filesystem path).
std::optional<std::string> abstract_name(const sockaddr_un& address, socklen_t len);

struct LegacyDatagram {
    std::string sender;  // the sender's abstract name: its address on the wire
    sgwire::Envelope envelope;
};
struct LegacyDatagramError {
    std::string detail;
};

std::variant<LegacyDatagram, LegacyDatagramError> parse_legacy_datagram(const sockaddr_un& from, socklen_t from_len,
                                                                        std::string_view bytes);

}  // namespace gsdk::sg
