// libFuzzer target: the daemon's IPC decoder. Each input is a connection of
// one "application" that sends up to three datagrams over a real
// SOCK_SEQPACKET socket to the real ApplicationRegistry, then goes away
// without a goodbye. The registry lives across inputs, as it lives across
// the stream of real peers a daemon sees: nothing a peer cannot reset is
// reset here, and after every input the bounds the daemon promises must hold.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "application_registry.h"
#include "challenge_answer.h"
#include "gsdk/log.h"
#include "gsdk/protobuf_logging.h"
#include "gsdk/unix_socket.h"

using namespace gsdk;
using namespace gsdk::heartbeat;

namespace {

struct Harness {
    EventLoop loop;
    DaemonConfig config;
    std::unique_ptr<ApplicationRegistry> registry;
    std::string path;

    Harness() {
        log_init("fuzz", LogLevel::Error);
        route_protobuf_logs();
        // A small registry, so that the fuzzer reaches its limits.
        config.max_applications = 32;
        registry = std::make_unique<ApplicationRegistry>(loop, config, ApplicationRegistry::Callbacks{});
        char dir[] = "/tmp/gsdk-fuzz-XXXXXX";
        path = std::string(mkdtemp(dir)) + "/hb.sock";
        if (registry->listen(path) < 0) std::abort();
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

void check_bounds(const Harness& h) {
    const auto& failures = h.registry->pending_failures();
    if (failures.size() > static_cast<std::size_t>(h.config.max_applications))
        broken("pending failures over the cap", failures.size());
    std::set<std::string> names;
    for (const auto& f : failures)
        if (!names.insert(f.source).second) broken("two pending failures for one application", failures.size());
    if (h.registry->size() > static_cast<std::size_t>(h.config.max_applications))
        broken("registrations over MAX_APPLICATIONS", h.registry->size());
    // What the host would be told now fits the line budget.
    std::vector<HealthFinding> findings = h.registry->unhealthy_findings();
    findings.insert(findings.end(), failures.begin(), failures.end());
    HealthVerdict verdict = merge_health(findings, h.config.corrective_action);
    auto statuses = h.registry->statuses();
    std::string line = hbwire::encode_line({1, compose_challenge_response(42, verdict, &statuses)});
    if (line.size() > kGuestLineBudget) broken("challenge_response over the line budget", line.size());
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
    check_bounds(h);
    return 0;
}
