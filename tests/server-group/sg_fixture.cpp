#include "sg_fixture.h"

#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace gsdk::test {

using namespace std::chrono;

namespace {

void on_connected(sg_client*, bool up, const char* reason, void* user) {
    auto* m = static_cast<Member*>(user);
    m->links.push_back(up);
    m->link_reason = reason ? reason : "";
}
void on_broadcast(sg_client*, const char* source, const void* payload, size_t len, void* user) {
    static_cast<Member*>(user)->broadcasts.push_back({source, std::string(static_cast<const char*>(payload), len)});
}
void on_notification(sg_client*, const char* json, size_t len, void* user) {
    static_cast<Member*>(user)->notifications.emplace_back(json, len);
}
void on_status(sg_client*, uint32_t id, int error, const sg_status* status, void* user) {
    Member::StatusEnd end;
    end.query_id = id;
    end.error = error;
    for (size_t i = 0; i < status->member_count; ++i) end.members.emplace_back(status->members[i]);
    end.array = status->members_json;
    end.reason = status->reason;
    static_cast<Member*>(user)->statuses.push_back(std::move(end));
}
void on_refused(sg_client*, int error, const char* msg_type, const char* reason, void* user) {
    static_cast<Member*>(user)->refusals.push_back({error, msg_type, reason});
}
void on_lost(sg_client*, uint64_t count, void* user) { static_cast<Member*>(user)->lost += count; }

}  // namespace

Member::Member(const std::string& socket_path) {
    sg_callbacks cb{on_connected, on_broadcast, on_notification, on_status, on_refused, on_lost};
    int rc = sg_client_new(&client_, &cb, this, socket_path.c_str());
    if (rc < 0) ADD_FAILURE() << "sg_client_new: " << rc;
}

Member::~Member() { sg_client_free(client_); }

bool Member::pump_until(const std::function<bool()>& pred, milliseconds deadline) {
    auto end = steady_clock::now() + deadline;
    for (;;) {
        if (pred()) return true;
        auto left = duration_cast<milliseconds>(end - steady_clock::now()).count();
        if (left <= 0) return false;
        int timeout = sg_client_next_timeout_ms(client_);
        if (timeout < 0 || timeout > left) timeout = static_cast<int>(left);
        pollfd p{sg_client_fd(client_), POLLIN, 0};
        ::poll(&p, 1, std::min(timeout, 100));
        sg_client_process(client_);
    }
}

void Member::pump_for(milliseconds how_long) {
    pump_until([] { return false; }, how_long);
}

void ServerGroupTest::SetUp() {
    own_network = ::unshare(CLONE_NEWNET) == 0;
    // Unprivileged members of some tests must reach the sockets in it.
    ::chmod(dir.path().c_str(), 0755);
}

void ServerGroupTest::TearDown() {
    daemon.stop();
    if (HasFailure()) std::fprintf(stderr, "---- daemon log ----\n%s\n", read_file(daemon_log()).c_str());
}

void ServerGroupTest::start_daemon() {
    std::string config = "STATUS_TIMEOUT_MS=3000\n" + extra_config;
    if (!own_network) config += "\nLEGACY_DATAGRAMS=no\n";
    write_file(dir / "sg.conf", config);
    ::unlink(client_socket().c_str());
    int started = log_count("started: ");
    daemon.start({SERVER_GROUPD, "--listen", "unix:" + host_socket(), "--config", dir / "sg.conf", "--socket-dir",
                  dir.path(), "--log-level", "debug"},
                 daemon_log());
    ASSERT_TRUE(wait_for_path(client_socket(), 10s)) << read_file(daemon_log());
    ASSERT_TRUE(wait_for_path(host_socket(), 10s)) << read_file(daemon_log());
    // Ready as systemd would be told (its signal watches are in place only
    // then: a SIGHUP before that waits until they are).
    auto end = steady_clock::now() + 10s;
    while (log_count("started: ") <= started) {
        ASSERT_LT(steady_clock::now(), end) << "the daemon never said it started\n" << read_file(daemon_log());
        std::this_thread::sleep_for(5ms);
    }
}

void ServerGroupTest::stop_daemon() { daemon.stop(); }

void ServerGroupTest::connect_host() {
    int before = log_count("host connected on");
    ASSERT_TRUE(host.connect(host_socket()));
    auto end = steady_clock::now() + 10s;
    while (log_count("host connected on") <= before) {
        ASSERT_LT(steady_clock::now(), end) << "the daemon did not see the host";
        std::this_thread::sleep_for(5ms);
    }
}

void ServerGroupTest::host_send(const nlohmann::json& envelope) {
    std::string line = envelope.dump() + "\n";
    std::size_t cut = line.size() / 2;
    host.send_raw(line.substr(0, cut));
    // Let the first part arrive alone, as a split write of the real host does.
    std::this_thread::sleep_for(2ms);
    host.send_raw(line.substr(cut));
}

void ServerGroupTest::host_send_group(const nlohmann::json& data, const std::string& source) {
    host_send({{"version", 2}, {"source_addr", source}, {"dest_addr", "cgcs.server_grp"}, {"data", data}});
}

void ServerGroupTest::host_broadcast(const std::string& source_instance, const std::string& payload) {
    host_send_group(
        {{"version", "version"}, {"msg_type", "broadcast"}, {"source_instance", source_instance}, {"data", payload}});
}

void ServerGroupTest::host_notification(const nlohmann::json& data) {
    host_send_group({{"version", 2}, {"msg_type", "notification"}, {"data", data}});
}

std::optional<nlohmann::json> ServerGroupTest::host_receive(milliseconds timeout) { return host.receive(timeout); }

std::optional<nlohmann::json> ServerGroupTest::host_receive_group(const std::string& type, milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    for (;;) {
        auto left = duration_cast<milliseconds>(end - steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto line = host.receive(left);
        if (!line) return std::nullopt;
        if (line->contains("data") && (*line)["data"].is_object() && (*line)["data"].value("msg_type", "") == type)
            return line;
    }
}

std::unique_ptr<Member> ServerGroupTest::joined_member() {
    auto m = std::make_unique<Member>(client_socket());
    EXPECT_TRUE(m->wait_connected()) << m->link_reason;
    return m;
}

int ServerGroupTest::log_count(const std::string& text) const {
    std::string log = read_file(daemon_log());
    int n = 0;
    for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
}

std::string to_hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string from_hex(const std::string& hex) {
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

}  // namespace gsdk::test
