#include "scale_fixture.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "gsdk/unix_socket.h"
#include "local_service_ipc.pb.h"

namespace gsdk::test {

namespace service = ::gsdk::server_group::service;
using namespace std::chrono;

std::string guest_scaled_path() { return GUEST_SCALED; }
std::string server_groupd_path() { return SERVER_GROUPD; }

FakeCpuTree::FakeCpuTree(std::string root, unsigned count, const std::set<unsigned>& offline) : root_(std::move(root)) {
    for (unsigned cpu = 0; cpu < count; ++cpu) {
        std::filesystem::create_directories(cpu_dir(cpu));
        if (cpu != 0) set(cpu, !offline.count(cpu));
    }
}

std::string FakeCpuTree::cpu_dir(unsigned cpu) const { return root_ + "/devices/system/cpu/cpu" + std::to_string(cpu); }

void FakeCpuTree::set(unsigned cpu, bool online) { write_file(online_file(cpu), online ? "1\n" : "0\n"); }

bool FakeCpuTree::online(unsigned cpu) const {
    if (::access(online_file(cpu).c_str(), F_OK) != 0) return std::filesystem::exists(cpu_dir(cpu));
    return read_file(online_file(cpu)).substr(0, 1) == "1";
}

std::vector<unsigned> FakeCpuTree::online_list(unsigned count) const {
    std::vector<unsigned> out;
    for (unsigned cpu = 0; cpu < count; ++cpu)
        if (online(cpu)) out.push_back(cpu);
    return out;
}

void FakeCpuTree::plug(unsigned cpu) {
    std::filesystem::create_directories(cpu_dir(cpu));
    set(cpu, false);
}

FakeRelay::FakeRelay(std::string path) : path_(std::move(path)) {
    listen_fd_ = seqpacket_listen(path_);
    if (listen_fd_ < 0) ADD_FAILURE() << "cannot listen on " << path_ << ": " << std::strerror(-listen_fd_);
}

FakeRelay::~FakeRelay() {
    drop();
    if (listen_fd_ >= 0) ::close(listen_fd_);
}

void FakeRelay::drop() {
    if (conn_ >= 0) {
        ::shutdown(conn_, SHUT_RDWR);
        ::close(conn_);
    }
    conn_ = -1;
}

namespace {

// One datagram within the timeout; "" on timeout, nullopt when closed.
std::optional<std::string> receive_one(int fd, milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    char buf[65536];
    for (;;) {
        long n = seqpacket_receive(fd, buf, sizeof buf);
        if (n > 0) return std::string(buf, static_cast<std::size_t>(n));
        if (n == 0 || (n < 0 && n != -EAGAIN)) return std::nullopt;
        auto left = duration_cast<milliseconds>(end - steady_clock::now()).count();
        if (left <= 0) return std::string();
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(std::min<long>(left, 100)));
    }
}

}  // namespace

bool FakeRelay::accept_claim(milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    drop();
    while (conn_ < 0) {
        if (steady_clock::now() > end) return false;
        pollfd p{listen_fd_, POLLIN, 0};
        ::poll(&p, 1, 100);
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) conn_ = fd;
    }
    auto bytes = receive_one(conn_, duration_cast<milliseconds>(end - steady_clock::now()));
    service::ServiceMessage m;
    if (!bytes || bytes->empty() || !m.ParseFromString(*bytes) || !m.has_claim()) return false;
    EXPECT_EQ(m.claim().address(), "cgcs.scale");
    service::RelayMessage r;
    r.mutable_claim_result()->set_accepted(true);
    r.mutable_claim_result()->set_host_connected(true);
    std::string out = r.SerializeAsString();
    return seqpacket_send(conn_, out.data(), out.size()) == 0;
}

void FakeRelay::deliver(const std::string& source_addr, const std::string& data_json) {
    service::RelayMessage r;
    r.mutable_deliver()->set_source_addr(source_addr);
    r.mutable_deliver()->set_data_json(data_json);
    std::string out = r.SerializeAsString();
    ASSERT_EQ(seqpacket_send(conn_, out.data(), out.size()), 0);
}

std::optional<std::pair<std::string, json>> FakeRelay::next_send(milliseconds timeout) {
    auto end = steady_clock::now() + timeout;
    while (conn_ >= 0) {
        auto bytes = receive_one(conn_, duration_cast<milliseconds>(end - steady_clock::now()));
        if (!bytes || bytes->empty()) return std::nullopt;
        service::ServiceMessage m;
        if (!m.ParseFromString(*bytes)) {
            ADD_FAILURE() << "guest-scaled sent something that is not a ServiceMessage";
            return std::nullopt;
        }
        if (!m.has_send()) continue;
        auto data = json::parse(m.send().data_json(), nullptr, false);
        EXPECT_FALSE(data.is_discarded()) << m.send().data_json();
        return std::make_pair(m.send().dest_addr(), data);
    }
    return std::nullopt;
}

void GuestScaleTest::SetUp() {
    ::chmod(dir.path().c_str(), 0755);
    tree = std::make_unique<FakeCpuTree>(dir / "sys", cpus, offline_at_start);
    relay = std::make_unique<FakeRelay>(dir / "services.sock");
    state_file = dir / "state/offline_cpus";
}

void GuestScaleTest::TearDown() {
    daemon.stop();
    if (HasFailure()) std::fprintf(stderr, "---- guest-scaled log ----\n%s\n", log().c_str());
}

void GuestScaleTest::start_daemon(const std::vector<std::string>& extra) {
    write_file(dir / "guest_scale.conf", extra_config.empty() ? "SOCKET_GROUP=\n" : extra_config + "\n");
    std::vector<std::string> argv = {guest_scaled_path(),
                                     "--config",
                                     dir / "guest_scale.conf",
                                     "--sysfs-root",
                                     dir / "sys",
                                     "--service-socket",
                                     relay->path(),
                                     "--socket-dir",
                                     dir / "run",
                                     "--state-file",
                                     state_file,
                                     "--helper",
                                     "",
                                     "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon.start(argv, dir / "guest-scaled.log");
    ASSERT_TRUE(relay->accept_claim()) << log();
}

void GuestScaleTest::start_daemon_as(const Identity& who, const std::vector<std::string>& extra) {
    daemon.run_as(who);
    start_daemon(extra);
}

void GuestScaleTest::stop_daemon() { daemon.stop(); }

int GuestScaleTest::log_count(const std::string& text) const {
    std::string l = log();
    int n = 0;
    for (auto at = l.find(text); at != std::string::npos; at = l.find(text, at + text.size())) ++n;
    return n;
}

json GuestScaleTest::ask(const json& request, const std::string& source) {
    relay->deliver(source, request.dump());
    auto reply = relay->next_send();
    if (!reply) {
        ADD_FAILURE() << "no answer to " << request.dump();
        return {};
    }
    EXPECT_EQ(reply->first, source) << "a reply goes to the request's source_addr";
    return reply->second;
}

json GuestScaleTest::down(int64_t timeout_ms) {
    return {{"version", 2},
            {"msg_type", "scale_request"},
            {"timeout_ms", timeout_ms},
            {"resource", "cpu"},
            {"direction", "down"}};
}

json GuestScaleTest::up(unsigned cpu, const std::vector<unsigned>& online, int64_t timeout_ms) {
    return {{"version", 2},      {"msg_type", "scale_request"}, {"timeout_ms", timeout_ms}, {"resource", "cpu"},
            {"direction", "up"}, {"online_cpu", cpu},           {"online_cpus", online}};
}

std::string GuestScaleTest::helper(const std::string& body) {
    std::string path = dir / "app_scale_helper";
    write_file(path, "#!/bin/sh\n" + body + "\n", true);
    return path;
}

}  // namespace gsdk::test
