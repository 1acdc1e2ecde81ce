// A stand-in for a VNF binary that bundles the original
// libguest_heartbeat_api.so.3: it speaks the legacy framing through the test
// suite's own LegacyBinaryClient, registers, answers every challenge healthy
// and accepts every vote, until it is killed or its deadline passes.
#include <getopt.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "legacy_binary_client.h"

using namespace std::chrono;

int main(int argc, char** argv) {
    std::string socket, name = "legacy-app";
    int interval_ms = 1000, action = 2, lifetime_secs = 120;
    static const option options[] = {
        {"socket", required_argument, nullptr, 's'},   {"name", required_argument, nullptr, 'n'},
        {"interval", required_argument, nullptr, 'i'}, {"action", required_argument, nullptr, 'a'},
        {"lifetime", required_argument, nullptr, 'l'}, {nullptr, 0, nullptr, 0},
    };
    for (int opt; (opt = getopt_long(argc, argv, "", options, nullptr)) != -1;) {
        switch (opt) {
        case 's':
            socket = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'i':
            interval_ms = std::atoi(optarg);
            break;
        case 'a':
            action = std::atoi(optarg);
            break;
        case 'l':
            lifetime_secs = std::atoi(optarg);
            break;
        default:
            std::fprintf(stderr,
                         "usage: legacy_binary_app --socket PATH [--name N] [--interval MS] [--action 1-4] "
                         "[--lifetime S]\n");
            return 2;
        }
    }
    gsdk::test::LegacyBinaryClient client;
    auto end = steady_clock::now() + seconds(lifetime_secs);
    while (!client.connect(socket)) {
        if (steady_clock::now() > end) return 1;
        struct timespec ts {
            0, 100000000
        };
        nanosleep(&ts, nullptr);
    }
    client.init(name, static_cast<uint32_t>(interval_ms), static_cast<uint32_t>(action));
    while (steady_clock::now() < end) {
        auto m = client.receive(milliseconds(500));
        if (!m) {
            if (client.at_eof()) return 1;
            continue;
        }
        using C = gsdk::test::LegacyBinaryClient;
        if (m->type == C::kInitAck) {
            std::printf("%s: %s\n", name.c_str(), m->word[0] ? "registered" : "refused");
            std::fflush(stdout);
            if (!m->word[0]) return 1;
        } else if (m->type == C::kChallenge) {
            client.challenge_response(m->word[0], true, static_cast<uint32_t>(action));
        } else if (m->type == C::kActionNotify) {
            client.action_response(m->word[0], m->word[1], m->word[2], m->word[2] == 1 ? 1 : 3);
        }
    }
    return 0;
}
