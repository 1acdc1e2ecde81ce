// vCPU scaling latency on a fake sysfs tree: the real server-groupd and
// guest-scaled, this program playing the host on the messaging socket.
// Interleaved in one run, round after round (so drift in machine load hits
// every variant alike):
//   raw      a plain write of 0 and 1 to cpu3/online (the floor: what the
//            reference agent's sysfs write costs on this tree)
//   down     scale_request down -> answer, default choice (no chooser)
//   down-app the same with a libguest_scale chooser answering at once
//   up       scale_request up -> answer
// Prints p50/p99 per variant in milliseconds. In a real guest the kernel's
// hotplug adds 20-110 ms per CPU (see docs/guest-scale.md).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "guest_scale.h"
#include "test_process.h"

using namespace gsdk::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

json request(const std::string& direction, unsigned cpu) {
    json data = {{"version", 2},
                 {"msg_type", "scale_request"},
                 {"timeout_ms", 9000},
                 {"resource", "cpu"},
                 {"direction", direction}};
    if (direction == "up") {
        data["online_cpu"] = cpu;
        data["online_cpus"] = {0, 1, 2};
    }
    return {{"version", 2}, {"source_addr", "scale-0000000b"}, {"dest_addr", "cgcs.scale"}, {"data", data}};
}

// One request, its answer; milliseconds, or -1.
double ask(JsonLinePeer& host, const json& line) {
    auto t0 = steady_clock::now();
    host.send(line);
    auto reply = host.receive(seconds(20));
    if (!reply || (*reply)["data"].value("result", "") != "success") {
        std::fprintf(stderr, "scale_bench: no success: %s\n", reply ? reply->dump().c_str() : "no answer");
        return -1;
    }
    return duration<double, std::milli>(steady_clock::now() - t0).count();
}

void write_online(const std::string& file, const char* value) {
    int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd >= 0) {
        (void)!::write(fd, value, 1);
        ::close(fd);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = argc > 1 ? std::max(10, std::atoi(argv[1])) : 200;
    TempDir dir;
    for (unsigned cpu = 0; cpu < 4; ++cpu) {
        std::string d = dir.file("sys/devices/system/cpu/cpu" + std::to_string(cpu));
        std::filesystem::create_directories(d);
        if (cpu) write_file(d + "/online", "1\n");
    }
    // server-groupd's limit on what a guest sends the host (100 a second)
    // would refuse answers once an operation takes under 5 ms: raised.
    write_file(dir.file("sg.conf"),
               "LEGACY_DATAGRAMS=no\nSOCKET_GROUP=\nBROADCAST_RATE=100000\nBROADCAST_BURST=100000\n");
    write_file(dir.file("gs.conf"), "SOCKET_GROUP=\n");
    Subprocess sgd, gsd;
    sgd.start({SERVER_GROUPD, "--listen", "unix:" + dir.file("msg.sock"), "--config", dir.file("sg.conf"),
               "--socket-dir", dir.file("sg"), "--log-level", "warning"},
              dir.file("server-groupd.log"));
    if (!wait_for_path(dir.file("sg/services.sock"), seconds(20))) return 1;
    gsd.start({GUEST_SCALED, "--config", dir.file("gs.conf"), "--sysfs-root", dir.file("sys"), "--service-socket",
               dir.file("sg/services.sock"), "--socket-dir", dir.file("gs"), "--state-file", dir.file("state"),
               "--helper", "", "--log-level", "warning"},
              dir.file("guest-scaled.log"));
    JsonLinePeer host;
    if (!host.connect(dir.file("msg.sock"))) return 1;
    // Wait until cgcs.scale is served: a first round trip.
    for (int i = 0; i < 200 && !wait_for_path(dir.file("gs/scale.sock"), milliseconds(100)); ++i) {}
    std::this_thread::sleep_for(milliseconds(300));

    // The chooser lives in its own thread, driving its own loop.
    std::atomic<bool> choosing{false}, subscribed{false}, stop{false};
    std::thread app([&] {
        gs_callbacks cb{};
        cb.connected = [](gs_client*, bool up, int, bool, const unsigned*, size_t, const char*, void* user) {
            static_cast<std::atomic<bool>*>(user)->store(up);
        };
        cb.choose_cpu = [](gs_client* c, uint64_t id, const unsigned*, size_t, unsigned def, unsigned, void*) {
            gs_client_answer_choice(c, id, static_cast<int>(def));
        };
        gs_client* client = nullptr;
        std::string sock = dir.file("gs/scale.sock");
        while (!stop) {
            if (choosing && !client) gs_client_new(&client, &cb, &subscribed, sock.c_str(), true);
            if (!choosing && client) {
                gs_client_free(client);
                client = nullptr;
                subscribed = false;
            }
            if (!client) {
                std::this_thread::sleep_for(milliseconds(5));
                continue;
            }
            pollfd p{gs_client_fd(client), POLLIN, 0};
            ::poll(&p, 1, 5);
            gs_client_process(client);
        }
        gs_client_free(client);
    });

    std::map<std::string, std::vector<double>> ms;
    std::string online3 = dir.file("sys/devices/system/cpu/cpu3/online");
    for (int r = 0; r < rounds; ++r) {
        auto t0 = steady_clock::now();
        write_online(online3, "0");
        write_online(online3, "1");
        ms["raw (write 0, write 1)"].push_back(duration<double, std::milli>(steady_clock::now() - t0).count());

        choosing = false;
        for (int i = 0; i < 2000 && subscribed; ++i) std::this_thread::sleep_for(milliseconds(1));
        ms["down (default choice)"].push_back(ask(host, request("down", 0)));
        ms["up"].push_back(ask(host, request("up", 3)));

        choosing = true;
        // The chooser must be subscribed before the request: wait for it.
        for (int i = 0; i < 2000 && !subscribed; ++i) std::this_thread::sleep_for(milliseconds(1));
        ms["down (application chooses)"].push_back(ask(host, request("down", 0)));
        ms["up"].push_back(ask(host, request("up", 3)));
    }
    stop = true;
    app.join();
    std::printf("guest-scale latency on a fake sysfs tree, %d interleaved rounds (ms)\n", rounds);
    std::printf("%-28s %8s %8s\n", "variant", "p50", "p99");
    for (auto& [name, v] : ms) {
        if (std::count(v.begin(), v.end(), -1.0))
            std::printf("%-28s failures: %ld\n", name.c_str(), std::count(v.begin(), v.end(), -1.0));
        std::printf("%-28s %8.3f %8.3f\n", name.c_str(), percentile(v, 0.5), percentile(v, 0.99));
    }
    std::printf("anchor: the reference host allows the whole operation about 10 s (timeout_ms 9000)\n");
    return 0;
}
