// libFuzzer target: guest-heartbeatd's handler of the legacy stream socket.
// Each input is one connection of a binary bundling the original library:
// its bytes reach a real LegacyClientBridge (over a real socketpair, chunked
// as the first byte says) in front of the real ApplicationRegistry; then the
// client goes away. Registry and socket server live across inputs. After
// every input: whatever the daemon wrote is whole 228-byte frames of the
// types it may send, with ids in 31 bits, and the connection and its
// registration are gone.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "application_registry.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "legacy_heartbeat_frame.h"
#include "legacy_socket_server.h"

using namespace gsdk;
using namespace gsdk::heartbeat;

namespace {

struct Harness {
    EventLoop loop;
    DaemonConfig config;
    std::unique_ptr<ApplicationRegistry> registry;
    std::unique_ptr<LegacySocketServer> server;

    Harness() {
        log_init("fuzz", LogLevel::Error);
        route_protobuf_logs();
        config.max_applications = 32;
        registry = std::make_unique<ApplicationRegistry>(loop, config, ApplicationRegistry::Callbacks{});
        server = std::make_unique<LegacySocketServer>(loop, config, *registry);
    }
};

Harness& harness() {
    static Harness* h = new Harness();
    return *h;
}

[[noreturn]] void broken(const char* what, std::size_t value) {
    std::fprintf(stderr, "invariant broken: %s (%zu)\n", what, value);
    std::abort();
}

// Everything the daemon wrote: whole frames it may send, ids in 31 bits.
void check_output(const std::string& out) {
    if (out.size() % legacy::kFrameSize != 0) broken("output not whole frames", out.size());
    for (std::size_t at = 0; at < out.size(); at += legacy::kFrameSize) {
        legacy::FrameReader reader;
        reader.feed(out.data() + at, legacy::kFrameSize);
        auto result = reader.next();
        auto* m = std::get_if<legacy::Message>(&result);
        if (!m) broken("an undecodable frame from the daemon", at);
        if (auto* c = std::get_if<legacy::Challenge>(m)) {
            if (c->challenge == 0 || c->challenge > legacy::kMaxId) broken("challenge outside 31 bits", c->challenge);
        } else if (auto* n = std::get_if<legacy::ActionNotify>(m)) {
            if (n->invocation_id > legacy::kMaxId) broken("invocation id outside 31 bits", n->invocation_id);
        } else if (!std::holds_alternative<legacy::InitAck>(*m)) {
            broken("a frame type only clients send", m->index());
        }
    }
}

void drain(int fd, std::string* out) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;) out->append(buf, static_cast<std::size_t>(n));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Harness& h = harness();
    if (size == 0) return 0;
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0) return 0;
    PeerCredentials cred;
    cred.pid = ::getpid();
    cred.uid = 0;
    cred.gid = 0;
    h.server->serve(pair[0], cred);
    std::string out;
    std::size_t chunk = 1 + data[0] % 64;
    const char* p = reinterpret_cast<const char*>(data + 1);
    std::size_t left = size - 1;
    while (left > 0) {
        std::size_t n = left < chunk ? left : chunk;
        if (::send(pair[1], p, n, MSG_NOSIGNAL) < 0) break;  // the daemon closed it
        p += n;
        left -= n;
        h.loop.run_once_nonblocking();  // the bridge reads
        h.loop.run_once_nonblocking();  // the registry answers, the bridge passes it on
        drain(pair[1], &out);
    }
    for (int i = 0; i < 3; ++i) h.loop.run_once_nonblocking();
    drain(pair[1], &out);
    ::close(pair[1]);
    for (int i = 0; i < 20 && (h.server->connections() > 0 || h.registry->size() > 0); ++i)
        h.loop.run_once_nonblocking();
    check_output(out);
    if (h.server->connections() != 0) broken("a closed legacy connection is still served", h.server->connections());
    if (h.registry->size() != 0) broken("a departed legacy client is still registered", h.registry->size());
    return 0;
}
