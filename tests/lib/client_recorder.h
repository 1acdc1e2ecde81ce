// Test-side callbacks for a ghb_client: record what the library reports and
// answer the way a test configures it.
#pragma once

#include <poll.h>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "guest_heartbeat.h"

namespace ghbtest {

struct Recorder {
    struct Registration {
        bool registered;
        std::string reason;
    };
    std::vector<Registration> registrations;
    int health_checks = 0;
    bool healthy = true;
    std::optional<ghb_action> health_action;
    std::string health_msg;
    std::vector<ghb_action_notice> notices;
    // When set, the action callback answers at once with this vote.
    std::optional<ghb_vote_result> vote_now;
    std::string vote_msg;
    int respond_rc = 0;
    // Run inside the health callback (e.g. to try re-entering the library).
    std::function<void(ghb_client*)> in_health_check;

    static ghb_callbacks callbacks() {
        ghb_callbacks cb{};
        cb.registered = [](ghb_client*, bool ok, const char* reason, void* user) {
            static_cast<Recorder*>(user)->registrations.push_back({ok, reason ? reason : ""});
        };
        cb.health_check = [](ghb_client* c, ghb_health* health, void* user) {
            auto* r = static_cast<Recorder*>(user);
            ++r->health_checks;
            if (r->in_health_check) r->in_health_check(c);
            health->healthy = r->healthy;
            if (r->health_action) health->corrective_action = *r->health_action;
            snprintf(health->log_msg, sizeof health->log_msg, "%s", r->health_msg.c_str());
        };
        cb.action_notify = [](ghb_client* c, const ghb_action_notice* notice, void* user) {
            auto* r = static_cast<Recorder*>(user);
            r->notices.push_back(*notice);
            if (r->vote_now)
                r->respond_rc = ghb_client_respond(c, notice->invocation_id, *r->vote_now, r->vote_msg.c_str());
        };
        return cb;
    }
};

// Processes the client only when its descriptor says there is work, which is
// what an application loop does, so the tests also check the descriptor.
inline void pump_client(ghb_client* client) {
    pollfd p{ghb_client_fd(client), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) ghb_client_process(client);
}

// Waits on the client's descriptor (bounded by its next timeout) until pred holds.
inline bool run_until(ghb_client* client, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        int wait = ghb_client_next_timeout_ms(client);
        if (wait < 0 || wait > 20) wait = 20;
        pollfd p{ghb_client_fd(client), POLLIN, 0};
        if (::poll(&p, 1, wait) > 0) ghb_client_process(client);
    }
    return true;
}

}  // namespace ghbtest
