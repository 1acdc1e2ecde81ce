// The legacy guest_heartbeat_api_* functions on one default client. The legacy
// contract has the application re-register after a lost connection, so the
// default client registers with GHB_REGISTER_ONCE (no automatic reconnect).
#include "guest_heartbeat_api.h"

#include <cerrno>
#include <cstring>
#include <mutex>

#include "enum_value.h"
#include "guest_api_debug.h"
#include "guest_heartbeat.h"

namespace {

std::mutex g_mu;
ghb_client* g_client = nullptr;
// Read by the trampolines without g_mu: set before the client exists and only
// cleared after it is freed.
GuestHeartbeatApiCallbacksT g_callbacks{};

void on_registered(ghb_client*, bool registered, const char* reason, void*) {
    if (!registered && reason && *reason) DPRINTFI("heartbeat: not registered: %s", reason);
    g_callbacks.register_state(registered);
}

void on_health_check(ghb_client*, ghb_health* health, void*) {
    auto action = static_cast<GuestHeartbeatApiActionT>(health->corrective_action);
    g_callbacks.health_check(&health->healthy, &action, health->log_msg);
    // Copied as bytes: whatever the application wrote is checked when sent.
    std::memcpy(&health->corrective_action, &action, sizeof action);
}

void on_action_notify(ghb_client*, const ghb_action_notice* notice, void*) {
    g_callbacks.action_notify(notice->invocation_id, static_cast<GuestHeartbeatApiEventT>(notice->event),
                              static_cast<GuestHeartbeatApiNotifyTypeT>(notice->notify_type));
}

ghb_client* default_client() {
    std::lock_guard lock(g_mu);
    return g_client;
}

}  // namespace

extern "C" {

GuestApiErrorT guest_heartbeat_api_initialize(GuestHeartbeatApiCallbacksT* callbacks) {
    if (!callbacks || !callbacks->register_state || !callbacks->health_check || !callbacks->action_notify) {
        DPRINTFE("heartbeat: initialize needs all three callbacks");
        return GUEST_API_FAILED;
    }
    std::lock_guard lock(g_mu);
    if (g_client) {
        DPRINTFE("heartbeat: already initialized");
        return GUEST_API_FAILED;
    }
    g_callbacks = *callbacks;
    ghb_callbacks cb{on_registered, on_health_check, on_action_notify};
    if (int rc = ghb_client_new(&g_client, &cb, nullptr, nullptr); rc < 0) {
        DPRINTFE("heartbeat: cannot create the client: %s", std::strerror(-rc));
        return GUEST_API_FAILED;
    }
    return GUEST_API_OKAY;
}

GuestApiErrorT guest_heartbeat_api_finalize(void) {
    std::lock_guard lock(g_mu);
    if (!g_client) return GUEST_API_FAILED;
    ghb_client_free(g_client);
    g_client = nullptr;
    g_callbacks = {};
    return GUEST_API_OKAY;
}

GuestApiErrorT guest_heartbeat_api_register(GuestHeartbeatApiInitDataT* init_data) {
    ghb_client* client = default_client();
    if (!client || !init_data) return GUEST_API_FAILED;
    if (::strnlen(init_data->application_name, GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX) >=
        GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX) {
        DPRINTFE("heartbeat: application name is not NUL-terminated within %d bytes",
                 GUEST_HEARTBEAT_API_APPLICATION_NAME_MAX);
        return GUEST_API_FAILED;
    }
    if (init_data->heartbeat_interval_ms <= 0 || init_data->vote_secs < 0 || init_data->shutdown_notice_secs < 0 ||
        init_data->suspend_notice_secs < 0 || init_data->resume_notice_secs < 0) {
        DPRINTFE("heartbeat: negative or zero interval/timeouts in init data");
        return GUEST_API_FAILED;
    }
    ghb_registration reg{};
    reg.application_name = init_data->application_name;
    reg.heartbeat_interval_ms = static_cast<uint32_t>(init_data->heartbeat_interval_ms);
    reg.vote_secs = static_cast<uint32_t>(init_data->vote_secs);
    reg.shutdown_notice_secs = static_cast<uint32_t>(init_data->shutdown_notice_secs);
    reg.suspend_notice_secs = static_cast<uint32_t>(init_data->suspend_notice_secs);
    reg.resume_notice_secs = static_cast<uint32_t>(init_data->resume_notice_secs);
    std::memcpy(&reg.corrective_action, &init_data->corrective_action, sizeof reg.corrective_action);
    int rc = ghb_client_register(client, &reg, GHB_REGISTER_ONCE);
    // A loop that registers on every tick until register_state(true) must not
    // be punished for asking again while the answer is on its way.
    if (rc == 0 || rc == -EALREADY) return GUEST_API_OKAY;
    if (rc == -EINVAL) {
        DPRINTFE("heartbeat: invalid init data for '%s'", init_data->application_name);
        return GUEST_API_FAILED;
    }
    if (rc == -EACCES) {
        DPRINTFE(
            "heartbeat: '%s' may not register: permission denied (EACCES) on the daemon's socket "
            "(run as root or as a member of an allowed group)",
            init_data->application_name);
        return GUEST_API_FAILED;
    }
    DPRINTFD("heartbeat: daemon not reachable: %s", std::strerror(-rc));
    return GUEST_API_TRY_AGAIN;
}

GuestApiErrorT guest_heartbeat_api_deregister(char log_msg[]) {
    ghb_client* client = default_client();
    if (!client) return GUEST_API_FAILED;
    return ghb_client_deregister(client, log_msg) == 0 ? GUEST_API_OKAY : GUEST_API_FAILED;
}

GuestApiErrorT guest_heartbeat_api_send_action_response(int invocation_id, GuestHeartbeatApiEventT event,
                                                        GuestHeartbeatApiNotifyTypeT notify_type,
                                                        GuestHeartbeatApiVoteResultT vote_result, char log_msg[]) {
    ghb_client* client = default_client();
    if (!client) return GUEST_API_FAILED;
    ghb_vote_result vote;
    std::memcpy(&vote, &vote_result, sizeof vote);
    int rc = ghb_client_respond(client, invocation_id, vote, log_msg);
    // Legacy VNFs answer every notice with ACCEPT; to an irrevocable
    // notification that can only mean "done", which the daemon calls COMPLETE.
    if (rc == -EINVAL && vote == GHB_VOTE_ACCEPT)
        rc = ghb_client_respond(client, invocation_id, GHB_VOTE_COMPLETE, log_msg);
    if (rc < 0) {
        DPRINTFE("heartbeat: response %s to %s %s (invocation %d) not sent: %s",
                 guest_heartbeat_api_vote_result_str(vote_result), guest_heartbeat_api_notify_str(notify_type),
                 guest_heartbeat_api_event_str(event), invocation_id,
                 rc == -ENOENT ? "no such notification pending" : std::strerror(-rc));
        return GUEST_API_FAILED;
    }
    return GUEST_API_OKAY;
}

int guest_heartbeat_api_get_selobj(void) {
    ghb_client* client = default_client();
    return client ? ghb_client_fd(client) : -1;
}

void guest_heartbeat_api_dispatch(int selobj) {
    ghb_client* client = default_client();
    if (!client) return;
    if (selobj != ghb_client_fd(client)) {
        DPRINTFE("heartbeat: dispatch called with %d, not the selobj %d", selobj, ghb_client_fd(client));
        return;
    }
    ghb_client_process(client);
}

}  // extern "C"
