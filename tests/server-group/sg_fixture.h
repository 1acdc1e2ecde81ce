// A real server-groupd with this test playing the host on its --listen
// socket (framing its lines as the real messaging host does), plus members:
// in-process libserver_group clients and helpers for the checks.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server_group_client.h"
#include "test_process.h"

namespace gsdk::test {

using namespace std::chrono_literals;

// One libserver_group client in this process, recording what it is told.
class Member {
public:
    struct StatusEnd {
        uint32_t query_id = 0;
        int error = 0;
        std::vector<std::string> members;
        std::string array;
        std::string reason;
    };
    struct Broadcast {
        std::string source;
        std::string payload;
    };
    struct Refusal {
        int error;
        std::string msg_type;
        std::string reason;
    };

    explicit Member(const std::string& socket_path);
    ~Member();
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

    sg_client* client() { return client_; }
    // Runs the client until pred() holds or the deadline passes.
    bool pump_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 10s);
    void pump_for(std::chrono::milliseconds how_long);
    bool connected() const { return !links.empty() && links.back(); }
    bool wait_connected(std::chrono::milliseconds deadline = 10s) {
        return pump_until([this] { return connected(); }, deadline);
    }

    std::vector<bool> links;
    std::string link_reason;
    std::vector<Broadcast> broadcasts;
    std::vector<std::string> notifications;
    std::vector<StatusEnd> statuses;
    std::vector<Refusal> refusals;
    uint64_t lost = 0;

private:
    sg_client* client_ = nullptr;
};

class ServerGroupTest : public ::testing::Test {
public:  // helpers outside the fixture (answer_status) use it too
    TempDir dir;
    Subprocess daemon;
    JsonLinePeer host;
    std::string extra_config;
    // This test runs in a network namespace of its own, so the abstract
    // datagram names of the original library cannot meet another test's.
    bool own_network = false;

    void SetUp() override;
    void TearDown() override;

    std::string daemon_log() const { return dir / "daemon.log"; }
    std::string client_socket() const { return dir / "client.sock"; }
    std::string service_socket() const { return dir / "services.sock"; }
    std::string host_socket() const { return dir / "messaging.sock"; }

    void start_daemon();
    void stop_daemon();
    // Connects as the host and waits until the daemon has seen it.
    void connect_host();

    // Host -> guest, framed as the real messaging host does ("{...}\n"),
    // in two writes split inside the line.
    void host_send(const nlohmann::json& envelope);
    void host_send_group(const nlohmann::json& data, const std::string& source = "cgcs.server_grp");
    // As the real host delivers them: inner version "version".
    void host_broadcast(const std::string& source_instance, const std::string& payload);
    void host_notification(const nlohmann::json& data);
    // The next line from the guest (an envelope), or nullopt.
    std::optional<nlohmann::json> host_receive(std::chrono::milliseconds timeout = 5s);
    // Skips lines until one carries data.msg_type == type.
    std::optional<nlohmann::json> host_receive_group(const std::string& type, std::chrono::milliseconds timeout = 5s);
    // Every line received so far (raw, as the guest framed them).
    std::vector<std::string> host_transcript() const { return host.transcript(); }
    // A member connected and told the host is there.
    std::unique_ptr<Member> joined_member();
    // Lines of the daemon log that contain text.
    int log_count(const std::string& text) const;
};

std::string to_hex(const std::string& bytes);
std::string from_hex(const std::string& hex);

}  // namespace gsdk::test
