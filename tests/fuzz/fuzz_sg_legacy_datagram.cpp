// libFuzzer target: the original library's datagrams. Inputs are sent as
// datagrams from a socket bound to the library's abstract name to
// server-groupd's core (credentials, rate, parsing, relaying to the host,
// status rounds, nacks), whose state lasts across inputs; and parsed
// directly with a sender address made from the input's first bytes.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "legacy_datagram.h"
#include "sg_daemon_harness.h"

namespace {

int original_library_socket() {
    static int fd = [] {
        int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        socklen_t len;
        sockaddr_un a = gsdk::sg::abstract_address("cgcs.server_grp", &len);
        ::bind(s, reinterpret_cast<sockaddr*>(&a), len);  // if taken (shared namespace), the refusals get fuzzed
        return s;
    }();
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto& h = gsdk::sg::fuzz::harness();
    if (size == 0) return 0;
    // Direct parse, with a sender address of the input's choosing.
    sockaddr_un from{};
    std::size_t addr_len = std::min<std::size_t>(data[0] % sizeof from, size - 1);
    std::memcpy(&from, data + 1, addr_len);
    gsdk::sg::parse_legacy_datagram(from, static_cast<socklen_t>(addr_len),
                                    std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    if (!h.own_network) return 0;
    // Through the daemon's socket.
    socklen_t len;
    sockaddr_un agent = gsdk::sg::abstract_address(h.config.legacy_agent_name, &len);
    ::sendto(original_library_socket(), data + 1, size - 1, MSG_DONTWAIT | MSG_NOSIGNAL,
             reinterpret_cast<sockaddr*>(&agent), len);
    h.settle();
    gsdk::sg::fuzz::DaemonHarness::drain(original_library_socket());
    // The host answers the status rounds it is asked for, so that they end.
    char buf[65536];
    while (::recv(h.host_fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {}
    return 0;
}
