// vmhostctl: the command line for vmhostd's control API.
// Exit status: 0 success (action accepted), 1 action rejected by the guest,
// 2 any error (vmhostd unreachable, bad request, action aborted or failed).
#include <getopt.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "control_client.h"
#include "output.h"

namespace vmhostctl {
namespace {

constexpr const char* kDefaultSocket = "/run/vmhostd/control.sock";
constexpr int kExitError = 2;

volatile sig_atomic_t g_interrupted = 0;

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: vmhostctl [--socket PATH] [--json] list\n"
                 "       vmhostctl [--socket PATH] [--json] action VM ACTION [--timeout SECS]\n"
                 "       vmhostctl [--socket PATH] [--json] events [VM] [--follow] [--limit N]\n"
                 "       vmhostctl [--socket PATH] [--json] group list|show GROUP\n"
                 "       vmhostctl [--socket PATH] [--json] group create GROUP [VM...]|delete GROUP\n"
                 "       vmhostctl [--socket PATH] [--json] group add|remove GROUP VM...\n"
                 "ACTION: stop reboot pause unpause suspend resume resize live-migrate cold-migrate\n"
                 "The socket defaults to $VMHOST_SOCKET, else %s.\n"
                 "Exit status: 0 ok/accepted, 1 rejected by the guest, 2 error, aborted or failed.\n",
                 kDefaultSocket);
}

int fail(const std::string& message) {
    std::fprintf(stderr, "vmhostctl: %s\n", message.c_str());
    return kExitError;
}

// Unwraps a reply or reports why there is none.
const control::Reply* checked(const std::optional<control::Reply>& reply, const std::string& error) {
    if (!reply) {
        fail(error);
        return nullptr;
    }
    if (reply->has_error()) {
        fail("vmhostd: " + reply->error().message());
        return nullptr;
    }
    return &*reply;
}

int list(ControlClient& client, bool json) {
    control::Request request;
    request.mutable_list_vms();
    std::string error;
    auto reply = client.call(request, 10000, &error);
    const control::Reply* r = checked(reply, error);
    if (!r) return kExitError;
    if (json)
        std::printf("%s\n", vm_json(r->vm_list()).dump(2).c_str());
    else
        std::fputs(vm_table(r->vm_list()).c_str(), stdout);
    return 0;
}

int action(ControlClient& client, const std::string& vm, const std::string& name, int timeout_secs, bool json) {
    control::Request request;
    request.mutable_trigger_action()->set_vm(vm);
    request.mutable_trigger_action()->set_action(name);
    std::string error;
    auto reply = client.call(request, timeout_secs * 1000, &error);
    const control::Reply* r = checked(reply, error);
    if (!r) return kExitError;
    if (!r->has_action_result()) return fail("vmhostd answered without an action result");
    const auto& result = r->action_result();
    if (json)
        std::printf("%s\n", action_json(result).dump(2).c_str());
    else
        std::fputs(action_text(result).c_str(), stdout);
    switch (result.outcome()) {
    case control::ACCEPTED:
        return 0;
    case control::REJECTED:
        return 1;
    default:
        return kExitError;
    }
}

int events(ControlClient& client, const std::string& vm, bool follow, unsigned limit, bool json) {
    uint64_t since = 0;
    bool header_done = false;
    for (bool first = true; first || follow; first = false) {
        control::Request request;
        auto* get = request.mutable_get_events();
        get->set_vm(vm);
        get->set_since(since);
        get->set_limit(limit);
        std::string error;
        auto reply = client.call(request, 10000, &error);
        if (g_interrupted) return 0;
        const control::Reply* r = checked(reply, error);
        if (!r) return kExitError;
        const auto& list = r->event_list();
        if (json && !follow) {
            nlohmann::json all = nlohmann::json::array();
            for (const auto& e : list.events()) all.push_back(event_json(e));
            std::printf("%s\n", nlohmann::json{{"events", all}, {"skipped", list.skipped()}}.dump(2).c_str());
            return 0;
        }
        if (!json && list.skipped() > 0 && !first) std::printf("... %u events not shown\n", list.skipped());
        std::vector<std::vector<std::string>> rows;
        if (!json && !header_done && (!follow || list.events_size() > 0)) {
            rows.push_back(event_header());
            header_done = true;
        }
        for (const auto& e : list.events()) {
            if (json)
                std::printf("%s\n", event_json(e).dump().c_str());  // JSON lines while following
            else
                rows.push_back(event_row(e));
            since = std::max<uint64_t>(since, e.sequence());
        }
        if (!rows.empty()) std::fputs(format_table(rows).c_str(), stdout);
        // An empty first page still moves the cursor, so --follow shows only what is new.
        if (first && list.events_size() == 0) since = list.last_sequence();
        std::fflush(stdout);
        if (follow) {
            for (int i = 0; i < 5 && !g_interrupted; ++i) ::usleep(50 * 1000);
            if (g_interrupted) return 0;
        }
    }
    return 0;
}

// `group list|show|create|delete|add|remove ...`; args[0] is "group".
int group(ControlClient& client, const std::vector<std::string>& args, bool json) {
    const std::string& verb = args[1];
    control::Request request;
    if (verb == "list" || verb == "show") {
        request.mutable_list_groups()->set_group(verb == "show" ? args[2] : "");
    } else {
        auto* change = request.mutable_change_group();
        change->set_operation(verb == "create"   ? control::ChangeGroup::CREATE
                              : verb == "delete" ? control::ChangeGroup::DELETE
                              : verb == "add"    ? control::ChangeGroup::ADD
                                                 : control::ChangeGroup::REMOVE);
        change->set_group(args[2]);
        for (std::size_t i = 3; i < args.size(); ++i) change->add_vms(args[i]);
    }
    std::string error;
    auto reply = client.call(request, 10000, &error);
    const control::Reply* r = checked(reply, error);
    if (!r) return kExitError;
    const auto& list = r->group_list();
    if (json) {
        nlohmann::json groups = nlohmann::json::array();
        for (const auto& g : list.groups()) groups.push_back(group_json(g));
        if (verb == "show" && !groups.empty()) {
            if (list.truncated()) groups[0]["truncated"] = true;
            std::printf("%s\n", groups[0].dump(2).c_str());
        } else {
            std::printf("%s\n", nlohmann::json{{"groups", groups}, {"truncated", list.truncated()}}.dump(2).c_str());
        }
    } else if (verb == "list") {
        std::fputs(group_list_table(list).c_str(), stdout);
    } else if (verb == "show") {
        if (list.groups_size() > 0) std::fputs(group_show_text(list.groups(0)).c_str(), stdout);
    } else {
        std::printf("server group %s: %s done\n", args[2].c_str(), verb.c_str());
    }
    if (list.truncated()) std::fprintf(stderr, "vmhostctl: the answer was cut to fit one message\n");
    return 0;
}

// Whether `group ...` has the arguments its verb needs.
bool group_arguments_ok(const std::vector<std::string>& args) {
    if (args.size() < 2) return false;
    const std::string& verb = args[1];
    if (verb == "list") return args.size() == 2;
    if (verb == "show" || verb == "delete") return args.size() == 3;
    if (verb == "create") return args.size() >= 3;
    if (verb == "add" || verb == "remove") return args.size() >= 4;
    return false;
}

}  // namespace
}  // namespace vmhostctl

int main(int argc, char** argv) {
    using namespace vmhostctl;
    const char* env_socket = std::getenv("VMHOST_SOCKET");
    std::string socket = env_socket && *env_socket ? env_socket : kDefaultSocket;
    bool json = false, follow = false;
    int timeout_secs = 3600;
    unsigned limit = 100;
    static const option options[] = {
        {"socket", required_argument, nullptr, 's'},
        {"json", no_argument, nullptr, 'j'},
        {"follow", no_argument, nullptr, 'f'},
        {"timeout", required_argument, nullptr, 't'},
        {"limit", required_argument, nullptr, 'n'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    for (int c; (c = getopt_long(argc, argv, "s:jft:n:h", options, nullptr)) != -1;) {
        switch (c) {
        case 's':
            socket = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'f':
            follow = true;
            break;
        case 't':
            timeout_secs = std::atoi(optarg);
            if (timeout_secs <= 0) return fail("--timeout wants a positive number of seconds");
            break;
        case 'n': {
            int n = std::atoi(optarg);
            if (n <= 0 || n > 1000) return fail("--limit wants a number from 1 to 1000");
            limit = static_cast<unsigned>(n);
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return kExitError;
        }
    }
    std::vector<std::string> args(argv + optind, argv + argc);
    if (args.empty()) {
        usage(stderr);
        return kExitError;
    }
    const std::string& command = args[0];
    bool known = (command == "list" && args.size() == 1) || (command == "action" && args.size() == 3) ||
                 (command == "events" && args.size() <= 2) || (command == "group" && group_arguments_ok(args));
    if (!known) {
        usage(stderr);
        return fail(command == "list" || command == "action" || command == "events" || command == "group"
                        ? "wrong arguments for " + command
                        : "unknown command \"" + command + "\"");
    }
    std::signal(SIGPIPE, SIG_IGN);
    ControlClient client;
    if (follow) {
        // Ctrl-C (or SIGTERM) ends --follow quietly, with status 0, even in
        // the middle of a request: the client gives up waiting at once.
        struct sigaction sa = {};
        sa.sa_handler = [](int) { g_interrupted = 1; };
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
        client.set_interrupt_flag(&g_interrupted);
    }

    std::string error;
    if (!client.connect(socket, &error)) return follow && g_interrupted ? 0 : fail(error);
    if (command == "list") return list(client, json);
    if (command == "action") return action(client, args[1], args[2], timeout_secs, json);
    if (command == "group") return group(client, args, json);
    return events(client, args.size() == 2 ? args[1] : "", follow, limit, json);
}
