// ha_pair: one node of an active/standby pair of VMs, in the spirit of
// keepalived's master/backup, built on the guest SDK:
//
//  - libserver_group carries the pair's own heartbeats and the handover
//    between the two VMs (broadcasts), and tells the standby what the host
//    does to the active's VM (member notifications);
//  - libguest_heartbeat lets the active veto a host action that would take
//    its VM away (live migration, stop...) until it has handed its role to
//    the standby, and accept it when the host asks again;
//  - the service is a UNIX datagram address that only the active holds (the
//    pair's "virtual IP"); the answered requests travel with the role, so no
//    request is answered twice.
//
// Both libraries and the service socket sit in one poll() loop: each library
// gives a descriptor, its next timeout and a process call (see
// docs/heartbeat-api.md and docs/server-group-api.md, "Embedding").
//
//   ha_pair --name NAME --service PATH [--pair NAME] [--priority 0..255]
//           [--interval-ms MS] [--dead-after N] [--handover-timeout-ms MS]
//
// The daemons are found through GUEST_HEARTBEAT_SOCKET and
// SERVER_GROUP_SOCKET, or their default paths; in a guest, run it as a user
// the daemons admit (member of the group guest-sdk by default, see
// docs/server-group-api.md).
#include <getopt.h>
#include <poll.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "console.h"
#include "guest_heartbeat.h"
#include "ha_node.h"
#include "server_group_client.h"

namespace {

using namespace std::chrono_literals;
using ha::Clock;

volatile std::sig_atomic_t stop_requested = 0;

struct Program {
    ha::HaNode* node = nullptr;
    ghb_client* heartbeat = nullptr;
    sg_client* group = nullptr;
    // Irrevocable notices answered once the handover they started is over
    // (or just before the host stops waiting).
    struct Completion {
        int32_t invocation;
        Clock::time_point due;
    };
    std::vector<Completion> completions;
};

// --- libguest_heartbeat ---------------------------------------------------

void on_registered(ghb_client*, bool registered, const char* reason, void* user) {
    auto* p = static_cast<Program*>(user);
    if (registered)
        p->node->say("registered with guest-heartbeatd");
    else
        p->node->say("not registered: %s", reason);
}

void on_action_notify(ghb_client* client, const ghb_action_notice* notice, void* user) {
    auto* p = static_cast<Program*>(user);
    auto now = Clock::now();
    if (notice->notify_type == GHB_NOTIFY_REVOCABLE) {
        ha::Vote vote = p->node->on_vote(notice->event, now);
        p->node->say("host asks to %s this VM: %s%s%s", ghb_event_str(notice->event), vote.accept ? "accept" : "reject",
                     vote.accept ? "" : ": ", vote.reason.c_str());
        ghb_client_respond(client, notice->invocation_id, vote.accept ? GHB_VOTE_ACCEPT : GHB_VOTE_REJECT,
                           vote.reason.c_str());
        return;
    }
    p->node->say("host notifies %s", ghb_event_str(notice->event));
    p->node->on_notice(notice->event, now);
    // Complete when the handover (if one started) is done, but before the
    // host's deadline: silence would count as complete anyway.
    auto margin = std::min<uint32_t>(notice->timeout_ms / 2, 500);
    p->completions.push_back({notice->invocation_id, now + std::chrono::milliseconds(notice->timeout_ms - margin)});
}

// --- libserver_group -------------------------------------------------------

void on_connected(sg_client* client, bool connected, const char* reason, void* user) {
    auto* p = static_cast<Program*>(user);
    if (!connected) {
        p->node->say("server group: not connected: %s", reason);
        p->node->link_down(reason);
        return;
    }
    p->node->say("server group: connected");
    sg_client_request_status(client, 0);  // who else is in the group, for the log
}

void on_broadcast(sg_client*, const char* source, const void* payload, size_t len, void* user) {
    static_cast<Program*>(user)->node->on_broadcast(source, payload, len, Clock::now());
}

void on_notification(sg_client*, const char* json, size_t, void* user) {
    static_cast<Program*>(user)->node->on_host_notification(json, Clock::now());
}

void on_status(sg_client*, uint32_t, int error, const sg_status* status, void* user) {
    auto* p = static_cast<Program*>(user);
    if (error < 0)
        p->node->say("server group status: %s", status->reason);
    else
        p->node->say("server group status: %zu member(s): %s", status->member_count, status->members_json);
}

void on_refused(sg_client*, int error, const char* msg_type, const char* reason, void* user) {
    auto* p = static_cast<Program*>(user);
    // E.g. every heartbeat while the host is away: one line a second.
    p->node->complain(std::string("server group refused ") + msg_type,
                      std::string(reason) + " (" + std::strerror(-error) + ")");
    if (error == -EHOSTDOWN || error == -ENOBUFS) p->node->link_down(reason);
}

void on_messages_lost(sg_client*, uint64_t count, void* user) {
    static_cast<Program*>(user)->node->say("server group: %llu message(s) lost (we read too late)",
                                           static_cast<unsigned long long>(count));
}

// --- options ----------------------------------------------------------------

long long number(const char* text, const char* what, long long min, long long max) {
    return ha::option_number("ha_pair", text, what, min, max);
}

ha::NodeOptions parse(int argc, char** argv) {
    static const option options[] = {{"name", required_argument, nullptr, 'n'},
                                     {"service", required_argument, nullptr, 's'},
                                     {"pair", required_argument, nullptr, 'p'},
                                     {"priority", required_argument, nullptr, 'P'},
                                     {"interval-ms", required_argument, nullptr, 'i'},
                                     {"dead-after", required_argument, nullptr, 'd'},
                                     {"handover-timeout-ms", required_argument, nullptr, 't'},
                                     {"help", no_argument, nullptr, 'h'},
                                     {nullptr, 0, nullptr, 0}};
    const char* usage =
        "usage: ha_pair --name NAME --service PATH [--pair NAME] [--priority 0..255]\n"
        "               [--interval-ms MS] [--dead-after N] [--handover-timeout-ms MS]\n";
    ha::NodeOptions o;
    for (int c; (c = getopt_long(argc, argv, "h", options, nullptr)) != -1;) {
        switch (c) {
        case 'n':
            o.node = optarg;
            break;
        case 's':
            o.service_path = optarg;
            break;
        case 'p':
            o.pair = optarg;
            break;
        case 'P':
            o.priority = static_cast<int>(number(optarg, "priority", 0, 255));
            break;
        case 'i':
            o.interval = std::chrono::milliseconds(number(optarg, "interval", 10, 60000));
            break;
        case 'd':
            o.dead_after = static_cast<int>(number(optarg, "dead-after", 2, 100));
            break;
        case 't':
            o.handover_timeout = std::chrono::milliseconds(number(optarg, "handover timeout", 100, 600000));
            break;
        case 'h':
            std::fputs(usage, stdout);
            std::exit(0);
        default:
            std::fputs(usage, stderr);
            std::exit(2);
        }
    }
    // Names travel in the pair's messages and in answers (bounded there too).
    if (o.node.empty() || o.node.size() > 32 || o.node.find_first_of(" \t\n") != std::string::npos ||
        o.node.size() >= GHB_APPLICATION_NAME_MAX || o.pair.empty() || o.pair.size() > 32 || o.service_path.empty() ||
        optind < argc) {
        std::fputs(usage, stderr);
        std::exit(2);
    }
    return o;
}

int milliseconds_until(Clock::time_point t, Clock::time_point now) {
    auto d = std::chrono::ceil<std::chrono::milliseconds>(t - now).count();
    return static_cast<int>(std::clamp<long long>(d, 0, 1000));
}

// A library's own timeout (-1: none) folded into the loop's.
int sooner(int a, int b) { return b < 0 ? a : std::min(a, b); }

}  // namespace

int main(int argc, char** argv) {
    ha::NodeOptions options = parse(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGTERM, [](int s) { stop_requested = s; });
    std::signal(SIGINT, [](int s) { stop_requested = s; });

    Program program;
    ha::HaNode node(options, [&program](const std::string& payload) {
        int rc = sg_client_broadcast(program.group, payload.data(), payload.size());
        if (rc < 0) program.node->complain("broadcast not sent", std::strerror(-rc));
        return rc;
    });
    program.node = &node;

    ghb_callbacks hb_callbacks{on_registered, nullptr, on_action_notify};
    sg_callbacks sg_callbacks{on_connected, on_broadcast, on_notification, on_status, on_refused, on_messages_lost};
    ghb_registration registration{options.node.c_str(), 1000, 5, 5, 5, 5, GHB_ACTION_REBOOT};
    int rc = ghb_client_new(&program.heartbeat, &hb_callbacks, &program, nullptr);
    if (rc == 0) rc = ghb_client_register(program.heartbeat, &registration, 0);
    if (rc == 0) rc = sg_client_new(&program.group, &sg_callbacks, &program, nullptr);
    if (rc < 0) {
        node.say("cannot start: %s", std::strerror(-rc));
        return 1;
    }

    node.start(Clock::now());
    while (!node.finished()) {
        auto now = Clock::now();
        if (stop_requested) node.shut_down(now);
        int timeout = milliseconds_until(node.next_deadline(), now);
        timeout = sooner(timeout, ghb_client_next_timeout_ms(program.heartbeat));
        timeout = sooner(timeout, sg_client_next_timeout_ms(program.group));
        for (const auto& c : program.completions) timeout = std::min(timeout, milliseconds_until(c.due, now));

        pollfd fds[3] = {{ghb_client_fd(program.heartbeat), POLLIN, 0},
                         {sg_client_fd(program.group), POLLIN, 0},
                         {node.service_fd(), POLLIN, 0}};  // -1 (ignored by poll) unless active
        if (::poll(fds, 3, timeout) < 0 && errno != EINTR) {
            node.say("poll: %s", std::strerror(errno));
            break;
        }
        // Neither call blocks; each also handles its timers.
        ghb_client_process(program.heartbeat);
        sg_client_process(program.group);
        now = Clock::now();
        if (fds[2].revents & POLLIN) node.serve(now);
        node.tick(now);
        std::erase_if(program.completions, [&](const Program::Completion& c) {
            if (node.role() == ha::Role::HandingOver && now < c.due) return false;
            ghb_client_respond(program.heartbeat, c.invocation, GHB_VOTE_COMPLETE, nullptr);
            return true;
        });
    }

    node.say("stopping");
    ghb_client_deregister(program.heartbeat, "ha_pair stopping");
    ghb_client_free(program.heartbeat);
    sg_client_free(program.group);
    return 0;
}
