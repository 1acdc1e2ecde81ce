// libFuzzer target: the daemon's IPC decoder. Each input is a datagram sent
// by a connected "application" over a real SOCK_SEQPACKET socket to the real
// ApplicationRegistry, which must neither crash nor leak, whatever it gets.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "application_registry.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/unix_socket.h"

using namespace gsdk;
using namespace gsdk::heartbeat;

namespace {

struct Harness {
    EventLoop loop;
    DaemonConfig config;
    ApplicationRegistry registry{loop, config, {}};
    std::string path;

    Harness() {
        log_init("fuzz", LogLevel::Error);
        route_protobuf_logs();
        char dir[] = "/tmp/gsdk-fuzz-XXXXXX";
        path = std::string(mkdtemp(dir)) + "/hb.sock";
        if (registry.listen(path) < 0) std::abort();
    }
};

Harness& harness() {
    static Harness* h = new Harness();
    return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Harness& h = harness();
    int fd = seqpacket_connect(h.path);
    if (fd < 0) return 0;
    h.loop.run_once_nonblocking();  // accept
    // Up to three datagrams per input, split at 0xFF bytes, so that a valid
    // Register can be followed by other messages on the same connection.
    std::size_t start = 0;
    for (int n = 0; n < 3 && start <= size; ++n) {
        std::size_t end = start;
        while (end < size && data[end] != 0xFF) ++end;
        seqpacket_send(fd, data + start, end - start);
        h.loop.run_once_nonblocking();
        start = end + 1;
    }
    ::close(fd);
    for (int i = 0; i < 3; ++i) h.loop.run_once_nonblocking();  // see the close, reap the peer
    h.registry.failures_reported();
    return 0;
}
