// The legacy server_group.h functions on one default client per process.
// Errors are kept per thread, so sg_get_error() after a failed call in one
// thread is not overwritten by another thread.
#include "server_group.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "server_group_client.h"

namespace {

std::mutex g_mu;
sg_client* g_client = nullptr;
// Read by the trampolines without g_mu: set before the client exists and
// only cleared after it is freed.
sg_broadcast_msg_handler_t g_broadcast = nullptr;
sg_notification_msg_handler_t g_notification = nullptr;
sg_status_msg_handler_t g_status = nullptr;

thread_local char t_error[512] = "";
thread_local bool t_failed = false;  // something failed during this process_sg_msg()

void set_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void set_error(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(t_error, sizeof t_error, fmt, ap);
    va_end(ap);
}

int fail(int error, const char* what) {
    set_error("%s: %s", what,
              error == EMSGSIZE    ? "the payload is longer than MAX_MSG_DATA_LEN (3050 bytes)"
              : error == EINVAL    ? "the payload holds a line break or is not valid UTF-8 text"
              : error == ENOTCONN  ? "server-groupd is not reachable (is it running?)"
              : error == EHOSTDOWN ? "the host is not connected to this VM's messaging port"
              : error == EACCES    ? "server-groupd does not allow this user (ALLOWED_UIDS/ALLOWED_GROUPS)"
              : error == ENOBUFS   ? "server-groupd is not reading; try again later"
                                   : std::strerror(error));
    errno = error;
    return -1;
}

// The legacy handlers take lengths as unsigned short.
bool fits(std::size_t len, const char* what) {
    if (len <= 0xffff) return true;
    set_error(
        "a %s of %zu bytes does not fit the legacy handler's length (at most 65535); "
        "use the modern API (server_group_client.h)",
        what, len);
    t_failed = true;
    return false;
}

void on_broadcast(sg_client*, const char* source_instance, const void* payload, size_t len, void*) {
    if (!g_broadcast || !fits(len, "broadcast")) return;
    std::string source(source_instance);
    g_broadcast(source.data(), const_cast<void*>(payload), static_cast<unsigned short>(len));
}

void on_notification(sg_client*, const char* json, size_t len, void*) {
    if (!g_notification || !fits(len, "notification")) return;
    g_notification(const_cast<char*>(json), static_cast<unsigned short>(len));
}

void on_status(sg_client*, uint32_t, int error, const sg_status* status, void*) {
    if (error) {
        set_error("status query failed: %s", status->reason);
        t_failed = true;
        return;
    }
    std::size_t len = std::strlen(status->members_json);
    if (!g_status || !fits(len, "status answer")) return;
    std::string array(status->members_json);
    g_status(array.data(), static_cast<unsigned short>(len));
}

void on_refused(sg_client*, int error, const char* msg_type, const char* reason, void*) {
    set_error("%s refused: %s", *msg_type ? msg_type : "a message", reason);
    t_failed = true;
}

void on_connected(sg_client*, bool connected, const char* reason, void*) {
    if (connected) return;
    set_error("server-groupd: %s", reason);
    // A refusal is final; a lost connection comes back by itself.
    if (std::strstr(reason, "not allowed")) t_failed = true;
}

void on_messages_lost(sg_client*, uint64_t count, void*) {
    set_error("%llu messages for this process were dropped because it did not read them in time",
              static_cast<unsigned long long>(count));
    t_failed = true;
}

sg_client* default_client() {
    std::lock_guard lock(g_mu);
    return g_client;
}

}  // namespace

extern "C" {

int init_sg(sg_broadcast_msg_handler_t broadcast_handler, sg_notification_msg_handler_t notification_handler,
            sg_status_msg_handler_t status_handler) {
    std::lock_guard lock(g_mu);
    if (g_client) {
        set_error("init_sg: already initialised in this process");
        errno = EALREADY;
        return -1;
    }
    g_broadcast = broadcast_handler;
    g_notification = notification_handler;
    g_status = status_handler;
    sg_callbacks cb{on_connected,
                    broadcast_handler ? on_broadcast : nullptr,
                    notification_handler ? on_notification : nullptr,
                    on_status,
                    on_refused,
                    on_messages_lost};
    if (int rc = sg_client_new(&g_client, &cb, nullptr, nullptr); rc < 0) {
        g_client = nullptr;
        return fail(-rc, "init_sg");
    }
    return sg_client_fd(g_client);
}

int process_sg_msg(void) {
    sg_client* client = default_client();
    if (!client) {
        set_error("process_sg_msg: init_sg was not called");
        errno = EINVAL;
        return -1;
    }
    t_failed = false;
    if (int rc = sg_client_process(client); rc < 0) return fail(-rc, "process_sg_msg");
    return t_failed ? -1 : 0;
}

int sg_msg_broadcast(void* msg, unsigned int len) {
    sg_client* client = default_client();
    if (!client) {
        set_error("sg_msg_broadcast: init_sg was not called");
        errno = EINVAL;
        return -1;
    }
    if (!msg) return fail(EINVAL, "sg_msg_broadcast");
    // The original took a NUL-terminated string and ignored len; callers pass
    // strlen or strlen + 1. One byte past the limit is enough to refuse.
    std::size_t limit = len ? len : MAX_MSG_DATA_LEN + 1;
    std::size_t payload_len = ::strnlen(static_cast<const char*>(msg), limit);
    if (payload_len > MAX_MSG_DATA_LEN) return fail(EMSGSIZE, "sg_msg_broadcast");
    int rc = sg_client_broadcast(client, msg, payload_len);
    return rc < 0 ? fail(-rc, "sg_msg_broadcast") : 0;
}

int sg_request_status(void) {
    sg_client* client = default_client();
    if (!client) {
        set_error("sg_request_status: init_sg was not called");
        errno = EINVAL;
        return -1;
    }
    int rc = sg_client_request_status(client, 0);
    return rc < 0 ? fail(-rc, "sg_request_status") : 0;
}

char* sg_get_error(void) { return t_error; }

}  // extern "C"
