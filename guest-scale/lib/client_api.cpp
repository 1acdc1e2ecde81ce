// The C boundary: every argument is checked here, so the client core can
// trust what it gets.
#include <cerrno>
#include <cstdlib>
#include <new>

#include "client.h"

extern "C" {

int gs_client_new(gs_client** out, const gs_callbacks* callbacks, void* user, const char* socket_path, bool chooser) {
    if (!out) return -EINVAL;
    *out = nullptr;
    gs_callbacks cb{};
    if (callbacks) cb = *callbacks;
    if (chooser && !cb.choose_cpu) return -EINVAL;
    std::string path;
    if (socket_path) {
        path = socket_path;
    } else if (const char* env = std::getenv(GS_SOCKET_ENV); env && *env) {
        path = env;
    } else {
        path = GS_DEFAULT_SOCKET;
    }
    if (path.empty() || path.size() >= 108) return -ENAMETOOLONG;  // sun_path
    auto* client = new (std::nothrow) gs_client(cb, user, std::move(path), chooser);
    if (!client) return -ENOMEM;
    if (int rc = client->open_and_connect(); rc < 0) {
        delete client;
        return rc;
    }
    *out = client;
    return 0;
}

void gs_client_free(gs_client* client) { delete client; }

int gs_client_answer_choice(gs_client* client, uint64_t request_id, int cpu) {
    if (!client || cpu < -1 || cpu == 0 || cpu >= GS_MAX_CPUS) return -EINVAL;
    return client->answer_choice(request_id, cpu);
}

int gs_client_online_cpus(gs_client* client, unsigned* cpus, size_t max) {
    if (!client || (!cpus && max)) return -EINVAL;
    return client->online_cpus(cpus, max);
}

int gs_client_is_chooser(gs_client* client) { return client ? (client->is_chooser() ? 1 : 0) : -EINVAL; }

int gs_client_is_connected(gs_client* client) { return client ? (client->connected() ? 1 : 0) : -EINVAL; }

int gs_client_fd(const gs_client* client) { return client ? client->fd() : -EINVAL; }

int gs_client_next_timeout_ms(gs_client* client) { return client ? client->next_timeout_ms() : -EINVAL; }

int gs_client_process(gs_client* client) { return client ? client->process() : -EINVAL; }

}  // extern "C"
