// The C boundary of the modern API: every argument is checked here, so the
// client core can trust what it gets.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "client.h"
#include "enum_value.h"

using gsdk::heartbeat::enum_value;

namespace {

bool valid_registration(const ghb_registration* r) {
    if (!r || !r->application_name) return false;
    std::size_t len = ::strnlen(r->application_name, GHB_APPLICATION_NAME_MAX);
    if (len == 0 || len >= GHB_APPLICATION_NAME_MAX) return false;
    if (r->heartbeat_interval_ms == 0) return false;
    int action = enum_value(r->corrective_action);
    return action >= GHB_ACTION_UNKNOWN && action <= GHB_ACTION_LOG;
}

}  // namespace

extern "C" {

int ghb_client_new(ghb_client** out, const ghb_callbacks* callbacks, void* user, const char* socket_path) {
    if (!out) return -EINVAL;
    *out = nullptr;
    std::string path;
    if (socket_path) {
        path = socket_path;
    } else if (const char* env = std::getenv(GHB_SOCKET_ENV); env && *env) {
        path = env;
    } else {
        path = GHB_DEFAULT_SOCKET;
    }
    if (path.empty() || path.size() >= 108) return -ENAMETOOLONG;  // sun_path
    ghb_callbacks cb{};
    if (callbacks) cb = *callbacks;
    auto* client = new (std::nothrow) ghb_client(cb, user, std::move(path));
    if (!client) return -ENOMEM;
    if (int rc = client->open_descriptors(); rc < 0) {
        delete client;
        return rc;
    }
    *out = client;
    return 0;
}

void ghb_client_free(ghb_client* client) { delete client; }

int ghb_client_register(ghb_client* client, const ghb_registration* registration, unsigned flags) {
    if (!client || !valid_registration(registration) || (flags & ~GHB_REGISTER_ONCE)) return -EINVAL;
    return client->start(*registration, flags);
}

int ghb_client_deregister(ghb_client* client, const char* log_msg) {
    if (!client) return -EINVAL;
    return client->deregister(log_msg);
}

int ghb_client_respond(ghb_client* client, int32_t invocation_id, ghb_vote_result result, const char* log_msg) {
    if (!client) return -EINVAL;
    int vote = enum_value(result);
    if (vote != GHB_VOTE_ACCEPT && vote != GHB_VOTE_REJECT && vote != GHB_VOTE_COMPLETE) return -EINVAL;
    return client->respond(invocation_id, static_cast<ghb_vote_result>(vote), log_msg);
}

int ghb_client_fd(const ghb_client* client) { return client ? client->fd() : -EINVAL; }

int ghb_client_next_timeout_ms(ghb_client* client) { return client ? client->next_timeout_ms() : -EINVAL; }

int ghb_client_process(ghb_client* client) { return client ? client->process() : -EINVAL; }

int ghb_client_is_registered(ghb_client* client) {
    if (!client) return -EINVAL;
    if (client->registered()) return 1;
    return client->refusal() ? -client->refusal() : 0;
}

}  // extern "C"
