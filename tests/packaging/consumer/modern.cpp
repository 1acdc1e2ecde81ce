// The ghb_ API from C++: the same registration as modern.c, with the C
// header included by a C++ translation unit.
// usage: modern_cxx SOCKET NAME
#include <poll.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <guest_heartbeat.h>

namespace {

struct State {
    int registered = -1;
    std::string reason;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SOCKET NAME\n", argv[0]);
        return 2;
    }
    State state;
    ghb_callbacks callbacks{};
    callbacks.registered = [](ghb_client*, bool ok, const char* reason, void* user) {
        auto* s = static_cast<State*>(user);
        s->registered = ok ? 1 : 0;
        s->reason = reason ? reason : "";
    };
    ghb_client* client = nullptr;
    if (int rc = ghb_client_new(&client, &callbacks, &state, argv[1]); rc < 0) {
        std::fprintf(stderr, "ghb_client_new: %s\n", std::strerror(-rc));
        return 1;
    }
    const std::string name = argv[2];
    ghb_registration reg{name.c_str(), 1000, 5, 5, 5, 5, GHB_ACTION_LOG};
    if (int rc = ghb_client_register(client, &reg, 0); rc < 0) {
        std::fprintf(stderr, "ghb_client_register: %s\n", std::strerror(-rc));
        return 1;
    }
    for (int i = 0; i < 200 && state.registered < 0; ++i) {
        pollfd p{ghb_client_fd(client), POLLIN, 0};
        int timeout = ghb_client_next_timeout_ms(client);
        poll(&p, 1, timeout < 0 || timeout > 100 ? 100 : timeout);
        ghb_client_process(client);
    }
    if (state.registered != 1) {
        std::fprintf(stderr, "not registered: %s\n", state.reason.c_str());
        return 1;
    }
    std::printf("%s registered (corrective action %s)\n", name.c_str(), ghb_action_str(GHB_ACTION_LOG));
    int rc = ghb_client_deregister(client, "consumer done");
    ghb_client_free(client);
    return rc < 0 ? 1 : 0;
}
