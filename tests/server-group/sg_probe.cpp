// A member process for the tests: joins the server group through the
// installed-style shared library (modern API, or the legacy one with
// --legacy), does what its options say, and prints everything it is told
// as JSON lines on stdout until SIGTERM.
#include <getopt.h>
#include <poll.h>
#include <sys/select.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "server_group.h"
#include "server_group_client.h"

namespace {

volatile sig_atomic_t g_stop = 0;

void print(const nlohmann::json& event) {
    std::printf("%s\n", event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
}

std::string hex(const void* data, size_t len) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = static_cast<const unsigned char*>(data)[i];
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

struct Options {
    std::string socket;
    bool legacy = false;
    long flood = 0;
    bool status = false;
};

// --- modern API ---------------------------------------------------------

bool g_connected = false;
bool g_status_ended = false;

void on_connected(sg_client*, bool up, const char* reason, void*) {
    g_connected = up;
    print({{"event", "link"}, {"up", up}, {"reason", reason}});
}
void on_broadcast(sg_client*, const char* source, const void* payload, size_t len, void*) {
    print({{"event", "broadcast"}, {"source", source}, {"hex", hex(payload, len)}});
}
void on_notification(sg_client*, const char* json, size_t, void*) {
    print({{"event", "notification"}, {"json", json}});
}
void on_status(sg_client*, uint32_t id, int error, const sg_status* status, void*) {
    g_status_ended = true;
    print({{"event", "status"}, {"error", error}, {"count", status->member_count}, {"reason", status->reason}});
}
void on_refused(sg_client*, int error, const char* msg_type, const char* reason, void*) {
    print({{"event", "refused"}, {"error", error}, {"msg_type", msg_type}, {"reason", reason}});
}
void on_lost(sg_client*, uint64_t count, void*) { print({{"event", "lost"}, {"count", count}}); }

void wait_and_process(sg_client* c, int max_ms) {
    int timeout = sg_client_next_timeout_ms(c);
    if (timeout < 0 || timeout > max_ms) timeout = max_ms;
    pollfd p{sg_client_fd(c), POLLIN, 0};
    ::poll(&p, 1, timeout);
    sg_client_process(c);
}

int run_modern(const Options& o) {
    sg_callbacks cb{on_connected, on_broadcast, on_notification, on_status, on_refused, on_lost};
    sg_client* c = nullptr;
    if (int rc = sg_client_new(&c, &cb, nullptr, o.socket.empty() ? nullptr : o.socket.c_str()); rc < 0) {
        print({{"event", "error"}, {"error", rc}});
        return 1;
    }
    bool did_work = false;
    while (!g_stop) {
        wait_and_process(c, 100);
        if (!g_connected || did_work) continue;
        did_work = true;
        if (o.status) print({{"event", "status_asked"}, {"rc", sg_client_request_status(c, 0)}});
        if (o.flood) {
            long accepted = 0, failed = 0;
            for (long i = 0; i < o.flood && !g_stop; ++i) {
                std::string payload = "flood-" + std::to_string(i);
                int rc;
                // The daemon reads at its pace: wait for room rather than count a full outbox.
                while ((rc = sg_client_broadcast(c, payload.data(), payload.size())) == -ENOBUFS && !g_stop)
                    wait_and_process(c, 10);
                if (rc == 0)
                    ++accepted;
                else
                    ++failed;
            }
            // A query goes behind the flood in the same queue: once it is
            // answered (or refused), the daemon has seen every broadcast.
            g_status_ended = false;
            while (sg_client_request_status(c, 0) == -ENOBUFS && !g_stop) wait_and_process(c, 10);
            while (!g_status_ended && !g_stop) wait_and_process(c, 100);
            print({{"event", "flood_done"}, {"accepted", accepted}, {"failed", failed}});
        }
    }
    sg_client_free(c);
    return 0;
}

// --- legacy API ---------------------------------------------------------

void legacy_broadcast(char* source, void* msg, unsigned short len) {
    print({{"event", "broadcast"}, {"source", source}, {"hex", hex(msg, len)}});
}
void legacy_notification(void* msg, unsigned short len) {
    print({{"event", "notification"}, {"json", std::string(static_cast<char*>(msg), len)}});
}
void legacy_status(void* msg, unsigned short len) {
    print({{"event", "status"}, {"error", 0}, {"array", std::string(static_cast<char*>(msg), len)}});
}

int run_legacy(const Options& o) {
    int fd = init_sg(legacy_broadcast, legacy_notification, legacy_status);
    if (fd < 0) {
        print({{"event", "error"}, {"text", sg_get_error()}});
        return 1;
    }
    print({{"event", "ready"}, {"fd", fd}});
    if (o.status) print({{"event", "status_asked"}, {"rc", sg_request_status()}, {"text", sg_get_error()}});
    while (!g_stop) {
        // The legacy application's loop: select() on the descriptor with a tick.
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(fd, &readable);
        timeval tick{0, 100000};
        if (::select(fd + 1, &readable, nullptr, nullptr, &tick) > 0 && process_sg_msg() < 0)
            print({{"event", "error"}, {"text", sg_get_error()}});
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    static const option options[] = {
        {"socket", required_argument, nullptr, 's'},
        {"legacy", no_argument, nullptr, 'l'},
        {"flood", required_argument, nullptr, 'f'},
        {"status", no_argument, nullptr, 'q'},
        {nullptr, 0, nullptr, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "", options, nullptr)) != -1;) {
        switch (opt) {
        case 's':
            o.socket = optarg;
            break;
        case 'l':
            o.legacy = true;
            break;
        case 'f':
            o.flood = std::strtol(optarg, nullptr, 10);
            break;
        case 'q':
            o.status = true;
            break;
        default:
            return 2;
        }
    }
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    return o.legacy ? run_legacy(o) : run_modern(o);
}
