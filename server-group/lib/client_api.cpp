// The C boundary of the modern API: every argument is checked here, so the
// client core can trust what it gets.
#include <cerrno>
#include <cstdlib>
#include <new>

#include "client.h"
#include "payload_rule.h"

extern "C" {

int sg_client_new(sg_client** out, const sg_callbacks* callbacks, void* user, const char* socket_path) {
    if (!out) return -EINVAL;
    *out = nullptr;
    std::string path;
    if (socket_path) {
        path = socket_path;
    } else if (const char* env = std::getenv(SG_SOCKET_ENV); env && *env) {
        path = env;
    } else {
        path = SG_DEFAULT_SOCKET;
    }
    if (path.empty() || path.size() >= 108) return -ENAMETOOLONG;  // sun_path
    sg_callbacks cb{};
    if (callbacks) cb = *callbacks;
    auto* client = new (std::nothrow) sg_client(cb, user, std::move(path));
    if (!client) return -ENOMEM;
    if (int rc = client->open_and_connect(); rc < 0) {
        delete client;
        return rc;
    }
    *out = client;
    return 0;
}

void sg_client_free(sg_client* client) { delete client; }

int sg_payload_check(const void* payload, size_t len) {
    if (!payload && len) return -EINVAL;
    return -gsdk::sg::payload_errno(gsdk::sg::check_payload(payload, len));
}

int sg_client_broadcast(sg_client* client, const void* payload, size_t len) {
    if (!client || (!payload && len)) return -EINVAL;
    return client->broadcast(payload, len);
}

int sg_client_request_status(sg_client* client, unsigned timeout_ms) {
    if (!client || timeout_ms > 600000) return -EINVAL;
    return client->request_status(timeout_ms ? timeout_ms : SG_DEFAULT_STATUS_TIMEOUT_MS);
}

int sg_client_fd(const sg_client* client) { return client ? client->fd() : -EINVAL; }

int sg_client_next_timeout_ms(sg_client* client) { return client ? client->next_timeout_ms() : -EINVAL; }

int sg_client_process(sg_client* client) { return client ? client->process() : -EINVAL; }

int sg_client_is_connected(sg_client* client) { return client ? (client->connected() ? 1 : 0) : -EINVAL; }

int64_t sg_client_messages_lost(sg_client* client) { return client ? client->messages_lost() : -EINVAL; }

}  // extern "C"
