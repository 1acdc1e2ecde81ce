// The server end of the control socket, on the switch's event loop. Each
// client is read without blocking, so a client that sends half a line (or
// nothing) holds only its own slot: guests' control requests and other
// clients are served meanwhile. Limits: who (root or the switch's user),
// how many clients at once, how long a request line, how long a client may
// take to send it.
#pragma once

#include <gsdk/event_loop.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gsdk/log.h>
#include "acceptor.hpp"

namespace avpsw {

constexpr size_t kMaxControlClients = 16;
constexpr size_t kMaxControlRequest = 4096;           // bytes, newline included
constexpr gsdk::Millis kControlClientTimeout{10000};  // to send the request line

struct ControlCounters {
    uint64_t accepted = 0, refused_credentials = 0, refused_busy = 0, oversize = 0, timed_out = 0;
};

class ControlServer {
public:
    // Returns the reply now, or nullopt when the caller will reply() later.
    using Handler = std::function<std::optional<nlohmann::json>(uint64_t client, const std::string& line)>;

    ControlServer(gsdk::EventLoop& loop, Handler handler);
    ~ControlServer();

    // Listens on `path` (mode 0600); error text on failure.
    std::string listen(const std::string& path);
    // A deferred reply; dropped when the client has gone.
    void reply(uint64_t client, const nlohmann::json& j);
    size_t clients() const { return clients_.size(); }
    const ControlCounters& counters() const { return counters_; }
    uint64_t fd_exhaustion() const { return acceptor_ ? acceptor_->exhausted() : 0; }

private:
    struct Client;
    void accepted(int fd);
    void readable(Client& c);
    void writable(Client& c);
    void send(Client& c, const nlohmann::json& j);
    void drop(uint64_t id);

    gsdk::EventLoop& loop_;
    Handler handler_;
    std::string path_;
    int listen_fd_ = -1;
    std::unique_ptr<Acceptor> acceptor_;
    std::map<uint64_t, std::unique_ptr<Client>> clients_;
    std::vector<std::unique_ptr<Client>> doomed_;  // closed inside their own callbacks
    gsdk::Timer reaper_;
    uint64_t next_id_ = 1;
    ControlCounters counters_;
    gsdk::LogRateLimiter refused_log_, client_log_;
};

}  // namespace avpsw
