// A fake server-groupd: listens on a VM's messaging socket (as a simulated
// VM's server-groupd or QEMU's chardev does), lets vmhostd connect, and plays
// the guest end of envelope v2 and the server-group layer, recording every
// raw line vmhostd writes.
#pragma once

#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gsdk/json_line.h"

namespace hosttest {

class MessagingGuest {
public:
    explicit MessagingGuest(std::string path);
    ~MessagingGuest();
    MessagingGuest(const MessagingGuest&) = delete;
    MessagingGuest& operator=(const MessagingGuest&) = delete;

    void listen();
    bool accept(std::chrono::milliseconds timeout);
    void disconnect();
    bool connected() const { return conn_ >= 0; }

    void send_raw(const std::string& bytes);
    // `data` in an envelope to cgcs.server_grp, framed "\n{...}\n" as our guest does.
    void send_data(const nlohmann::json& data);
    void broadcast(const std::string& payload);
    void status_query(int64_t seq);

    // The next line vmhostd wrote (held lines first), parsed; nullopt on
    // timeout or hang-up.
    std::optional<nlohmann::json> next(std::chrono::milliseconds timeout);
    // The next line whose data.msg_type is `msg_type`; lines of other types met
    // on the way are held for later calls.
    std::optional<nlohmann::json> next_of(const std::string& msg_type, std::chrono::milliseconds timeout);
    // Sends a status_query and collects every line up to its
    // status_response_done: what vmhostd had written to this guest before
    // comes first, so a message that was never written is proven absent.
    // Returns the lines before the done (held ones included); nullopt if no
    // done came.
    std::optional<std::vector<nlohmann::json>> sync(int64_t seq, std::chrono::milliseconds timeout);

    // Every raw line (without its newline) vmhostd wrote on this connection and
    // the previous ones, and every chunk as read.
    const std::vector<std::string>& raw_lines() const { return raw_lines_; }
    // Bytes vmhostd wrote, as received (for framing checks).
    const std::string& raw_bytes() const { return raw_bytes_; }

private:
    bool fill(std::chrono::milliseconds timeout);
    std::optional<nlohmann::json> read_wire(std::chrono::milliseconds timeout);

    std::string path_;
    int listen_fd_ = -1;
    int conn_ = -1;
    gsdk::LineSplitter splitter_{1 << 20};
    std::deque<std::string> lines_;
    std::deque<nlohmann::json> held_;
    std::vector<std::string> raw_lines_;
    std::string raw_bytes_;
};

inline std::string msg_type_of(const nlohmann::json& line) {
    if (!line.is_object() || !line.contains("data") || !line["data"].is_object()) return "";
    const auto& d = line["data"];
    return d.contains("msg_type") && d["msg_type"].is_string() ? d["msg_type"].get<std::string>() : "";
}

}  // namespace hosttest
