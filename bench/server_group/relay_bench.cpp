// The relay side of bench/server_group: the real vmhostd between `members`
// simulated VMs, each a real server-groupd (--listen unix:) with one
// libserver_group client in a process of its own; member 0 broadcasts,
// the others receive, with the same stream, window and payload as the CPG anchor
// (bench_stream.h). Rate limits are raised so that only speed is measured.
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_stream.h"
#include "server_group_client.h"
#include "test_process.h"

using namespace gsdk::test;
using namespace std::chrono;

namespace {

// One libserver_group client and what the bench needs of it.
struct Member {
    unsigned receiver = 0;  // 1-based for a receiver, 0 for the sender
    sg_client* client = nullptr;
    bool connected = false;
    int status_error = 1;  // 1: no answer yet
    size_t status_connected = 0;
    uint64_t lost = 0;
};

bench_stream* g_stream;

void on_connected(sg_client*, bool up, const char*, void* user) { static_cast<Member*>(user)->connected = up; }
void on_broadcast(sg_client*, const char*, const void* payload, size_t len, void* user) {
    auto* m = static_cast<Member*>(user);
    if (m->receiver) bench_stream_delivered(g_stream, m->receiver - 1, payload, len);
}
void on_status(sg_client*, uint32_t, int error, const sg_status* status, void* user) {
    auto* m = static_cast<Member*>(user);
    m->status_error = error;
    m->status_connected = 0;
    for (size_t i = 0; i < status->member_count; ++i)
        m->status_connected +=
            nlohmann::json::parse(status->members[i], nullptr, false).value("messaging", "") == "connected";
}
void on_lost(sg_client*, uint64_t count, void* user) { static_cast<Member*>(user)->lost += count; }

void pump(Member& m, int timeout_ms) {
    pollfd p{sg_client_fd(m.client), POLLIN, 0};
    int t = sg_client_next_timeout_ms(m.client);
    ::poll(&p, 1, t >= 0 && t < timeout_ms ? t : timeout_ms);
    sg_client_process(m.client);
}

// Joins through the VM's daemon; true once a status answer shows all
// `count` members connected (so broadcasts reach every VM).
bool join(Member& m, const std::string& socket, unsigned count) {
    sg_callbacks cb{on_connected, on_broadcast, nullptr, on_status, nullptr, on_lost};
    if (sg_client_new(&m.client, &cb, &m, socket.c_str()) < 0) return false;
    auto deadline = steady_clock::now() + 60s;
    while (m.status_error != 0 || m.status_connected != count) {
        if (steady_clock::now() > deadline) return false;
        m.status_error = 1;
        if (m.connected && sg_client_request_status(m.client, 5000) > 0)
            while (m.status_error == 1 && steady_clock::now() < deadline) pump(m, 100);
        else
            pump(m, 20);
    }
    return true;
}

int run_receiver(Member& m, const std::string& socket, unsigned count) {
    if (!join(m, socket, count)) return 1;
    bench_stream_ready(g_stream, m.receiver - 1);
    auto deadline = steady_clock::now() + 180s;
    while (!bench_stream_aborted(g_stream) && !bench_stream_done(g_stream) && steady_clock::now() < deadline)
        pump(m, 100);
    if (m.lost)
        std::fprintf(stderr, "relay_bench: receiver %u: %llu messages lost\n", m.receiver,
                     static_cast<unsigned long long>(m.lost));
    sg_client_free(m.client);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    unsigned count = 4, window = 64;
    unsigned long messages = 20000;
    size_t size = 3050;
    std::string mode = "throughput";
    static const option options[] = {
        {"members", required_argument, nullptr, 'n'}, {"messages", required_argument, nullptr, 'm'},
        {"window", required_argument, nullptr, 'w'},  {"size", required_argument, nullptr, 's'},
        {"mode", required_argument, nullptr, 'o'},    {nullptr, 0, nullptr, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "", options, nullptr)) != -1;) {
        switch (opt) {
        case 'n':
            count = std::stoul(optarg);
            break;
        case 'm':
            messages = std::stoul(optarg);
            break;
        case 'w':
            window = std::stoul(optarg);
            break;
        case 's':
            size = std::stoul(optarg);
            break;
        case 'o':
            mode = optarg;
            break;
        default:
            return 2;
        }
    }
    if (count < 2 || count > 64 || messages == 0 || size > SG_MAX_PAYLOAD) {
        std::fprintf(stderr, "relay_bench: --members 2..64, --messages > 0, --size <= %d\n", SG_MAX_PAYLOAD);
        return 2;
    }

    TempDir dir;
    std::vector<std::unique_ptr<Subprocess>> daemons;
    nlohmann::json vms = nlohmann::json::array(), names = nlohmann::json::array();
    for (unsigned i = 0; i < count; ++i) {
        std::string name = "vm-" + std::to_string(i), vm = dir / name;
        ::mkdir(vm.c_str(), 0755);
        write_file(vm + "/sg.conf", "BROADCAST_RATE=100000\nBROADCAST_BURST=100000\nLEGACY_DATAGRAMS=no\n");
        daemons.push_back(std::make_unique<Subprocess>());
        daemons.back()->start({SERVER_GROUPD, "--listen", "unix:" + vm + "/msg.sock", "--config", vm + "/sg.conf",
                               "--socket-dir", vm, "--log-level", "warning"},
                              vm + "/server-groupd.log");
        // No heartbeat daemon: vmhostd keeps trying its socket, which costs nothing here.
        vms.push_back({{"name", name},
                       {"heartbeat", "unix:" + vm + "/hb.sock"},
                       {"messaging", "unix:" + vm + "/msg.sock"},
                       {"executor", {{"type", "command"}, {"argv", {"/bin/true"}}}}});
        names.push_back(name);
    }
    write_file(dir / "vmhostd.json",
               nlohmann::json{
                   {"control_socket", dir / "ctl.sock"},
                   {"vms", vms},
                   {"server_groups", {{{"name", "bench"}, {"members", names}}}},
                   {"messaging_limits", {{"messages_per_sec", 100000}, {"burst", 100000}, {"queue_bytes", 1048576}}}}
                   .dump());
    for (unsigned i = 0; i < count; ++i)
        if (!wait_for_path(dir / ("vm-" + std::to_string(i)) + "/client.sock", 20s)) {
            std::fprintf(stderr, "relay_bench: server-groupd %u did not start\n", i);
            return 1;
        }
    Subprocess vmhostd;
    vmhostd.start({VMHOSTD, "--config", dir / "vmhostd.json", "--log-level", "warning"}, dir / "vmhostd.log");

    g_stream = bench_stream_create(count - 1, messages, window, size);
    if (!g_stream) return 1;
    auto socket_of = [&dir](unsigned i) { return dir / ("vm-" + std::to_string(i)) + "/client.sock"; };
    std::vector<pid_t> children;
    for (unsigned r = 1; r < count; ++r) {
        pid_t pid = ::fork();
        if (pid == 0) {
            Member m;
            m.receiver = r;
            ::_exit(run_receiver(m, socket_of(r), count));
        }
        children.push_back(pid);
    }
    int status = 1;
    Member sender;
    std::string buf(size + 64, '\0');
    if (!join(sender, socket_of(0), count)) {
        std::fprintf(stderr, "relay_bench: the group never connected\n%s\n", read_file(dir / "vmhostd.log").c_str());
    } else {
        auto deadline = steady_clock::now() + 60s;
        while (!bench_stream_all_ready(g_stream) && steady_clock::now() < deadline)
            bench_stream_wait(g_stream, -1, 100);
        deadline = steady_clock::now() + 120s;
        while (bench_stream_all_ready(g_stream) && !bench_stream_done(g_stream) && steady_clock::now() < deadline) {
            while (bench_stream_can_send(g_stream)) {
                size_t len = bench_stream_next(g_stream, buf.data());
                int rc = sg_client_broadcast(sender.client, buf.data(), len);
                if (rc == -ENOBUFS) {  // the daemon is behind: later
                    bench_stream_unsend(g_stream);
                    break;
                }
                if (rc < 0) {
                    std::fprintf(stderr, "relay_bench: sg_client_broadcast: %d\n", rc);
                    deadline = steady_clock::now();
                    break;
                }
            }
            // The sender's socket matters only while its outbox is not empty.
            bench_stream_wait(g_stream, sg_client_fd(sender.client), 10);
            sg_client_process(sender.client);
        }
        bench_stream_report(g_stream, stdout, "relay", count, mode.c_str());
        status = bench_stream_done(g_stream) ? 0 : 1;
    }
    bench_stream_abort(g_stream);
    for (pid_t pid : children) {
        for (int i = 0; i < 50 && ::waitpid(pid, nullptr, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
        if (::waitpid(pid, nullptr, WNOHANG) == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    if (sender.client) sg_client_free(sender.client);
    bench_stream_destroy(g_stream);
    vmhostd.stop();
    for (auto& d : daemons) d->stop();
    return status;
}
