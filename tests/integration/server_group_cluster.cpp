#include "server_group_cluster.h"

#include <poll.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>

namespace gsdk::test {

using namespace std::chrono;

namespace {

// What a hypervisor does to a VM, done to the simulated VM's daemons.
const char* kExecutor = R"(#!/bin/sh
echo "$1 $2" >> "$ROOT/actions"
pids=$(cat "$ROOT/$1/pids" 2>/dev/null)
[ -n "$pids" ] || exit 0
case "$2" in
    stop) kill -KILL $pids ;;
    pause|suspend) kill -STOP $pids ;;
    unpause|resume) kill -CONT $pids ;;
esac
exit 0
)";

// Short intervals so that a loss is declared soon; a loss is only logged.
const char* kHeartbeatConfig =
    "HB_INTERVAL=300\nCORRECTIVE_ACTION=log\nVOTE=1\nSHUTDOWN_NOTICE=1\nSUSPEND_NOTICE=1\n"
    "RESUME_NOTICE=1\nRESTART=5\nINIT_DELAY_MS=0\nINIT_RETRY_MS=1000\n";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

}  // namespace

void ServerGroupCluster::SetUp() {
    // The original library's abstract datagram names are per network
    // namespace: in one of our own, vm-1's daemon can bind them.
    own_network = ::unshare(CLONE_NEWNET) == 0;
    // Unprivileged clients of some tests must reach the sockets.
    ::chmod(root.path().c_str(), 0755);
    write_file(root / "executor.sh", replace_all(kExecutor, "$ROOT", root.path()), true);
    for (int i = 1; i <= kVms; ++i) {
        auto v = std::make_unique<SimulatedVm>();
        v->name = name(i);
        v->dir = root / v->name;
        ::mkdir(v->dir.c_str(), 0755);
        ::mkdir((v->dir + "/sg").c_str(), 0755);
        ::mkdir((v->dir + "/hb").c_str(), 0755);
        vms_.push_back(std::move(v));
    }
}

void ServerGroupCluster::TearDown() {
    members_.clear();
    vmhostd.stop();
    for (auto& v : vms_) {
        v->messaging.signal(SIGCONT);
        v->heartbeat.signal(SIGCONT);
        v->messaging.stop();
        v->heartbeat.stop();
    }
    if (HasFailure()) {
        std::fprintf(stderr, "---- vmhostd ----\n%s\n", read_file(root / "vmhostd.log").c_str());
        for (auto& v : vms_) {
            std::fprintf(stderr, "---- %s server-groupd ----\n%s\n", v->name.c_str(), read_file(v->sg_log()).c_str());
            std::fprintf(stderr, "---- %s guest-heartbeatd ----\n%s\n", v->name.c_str(),
                         read_file(v->hb_log()).c_str());
        }
    }
}

void ServerGroupCluster::start_vm_daemons(int i) {
    SimulatedVm& v = vm(i);
    std::string config = "STATUS_TIMEOUT_MS=5000\n";
    // Only one daemon per network namespace can serve the original library.
    if (!(own_network && i == 1)) config += "LEGACY_DATAGRAMS=no\n";
    if (extra_sg_config.count(i)) config += extra_sg_config[i] + "\n";
    write_file(v.dir + "/sg.conf", config);
    ::unlink(v.client_socket().c_str());
    v.messaging.start({SERVER_GROUPD, "--listen", "unix:" + v.messaging_socket(), "--config", v.dir + "/sg.conf",
                       "--socket-dir", v.dir + "/sg", "--log-level", "debug"},
                      v.sg_log());
    ASSERT_TRUE(wait_for_path(v.client_socket(), kE2eDeadline)) << read_file(v.sg_log());
    start_heartbeat(i);
}

void ServerGroupCluster::start_heartbeat(int i) {
    SimulatedVm& v = vm(i);
    write_file(v.dir + "/hb.conf", kHeartbeatConfig);
    v.heartbeat.start({GUEST_HEARTBEATD, "--listen", "unix:" + v.heartbeat_socket(), "--config", v.dir + "/hb.conf",
                       "--socket-dir", v.dir + "/hb", "--legacy-socket", v.dir + "/hb/legacy.sock", "--name",
                       v.name + "-guest", "--log-level", "info"},
                      v.hb_log());
    ASSERT_TRUE(wait_for_path(v.heartbeat_socket(), kE2eDeadline)) << read_file(v.hb_log());
    write_file(v.dir + "/pids", std::to_string(v.messaging.pid()) + " " + std::to_string(v.heartbeat.pid()) + "\n");
}

void ServerGroupCluster::start_vmhostd() {
    nlohmann::json vms = nlohmann::json::array();
    for (int i = 1; i <= kVms; ++i)
        vms.push_back({{"name", name(i)},
                       {"heartbeat", "unix:" + vm(i).heartbeat_socket()},
                       {"messaging", "unix:" + vm(i).messaging_socket()},
                       {"executor", {{"type", "command"}, {"argv", {root / "executor.sh"}}}}});
    nlohmann::json config = {
        {"control_socket", root / "ctl.sock"},
        {"vms", vms},
        {"server_groups",
         {{{"name", "g1"}, {"members", {"vm-1", "vm-2", "vm-3"}}}, {{"name", "g2"}, {"members", {"vm-4"}}}}}};
    if (!messaging_limits.is_null()) config["messaging_limits"] = messaging_limits;
    write_file(root / "vmhostd.json", config.dump(1));
    ::unlink((root / "ctl.sock").c_str());
    vmhostd.start({VMHOSTD, "--config", root / "vmhostd.json", "--log-level", "info"}, root / "vmhostd.log");
    ASSERT_TRUE(wait_for_path(root / "ctl.sock", kE2eDeadline)) << read_file(root / "vmhostd.log");
}

void ServerGroupCluster::start() {
    for (int i = 1; i <= kVms; ++i) {
        start_vm_daemons(i);
        if (HasFatalFailure()) return;
    }
    start_vmhostd();
    if (HasFatalFailure()) return;
    for (int i = 1; i <= kVms; ++i) members_.push_back(std::make_unique<Member>(vm(i).client_socket()));
    // Once a member's answer shows every session of its group up, the
    // heartbeat_up notifications the host sent it came before that answer
    // on the same path: what it was told of the start-up is all there (a
    // member whose client joined late missed some, so members differ), and
    // tests count notifications from there.
    for (int i = 1; i <= kVms; ++i) {
        ASSERT_TRUE(member(i).wait_connected(kE2eDeadline)) << name(i) << ": " << member(i).link_reason;
        ASSERT_TRUE(wait_group_connected(i, kE2eDeadline, true))
            << name(i) << "'s status never showed its group connected with every heartbeat active";
    }
}

std::vector<Member*> ServerGroupCluster::all_members() {
    std::vector<Member*> all;
    for (auto& m : members_) all.push_back(m.get());
    return all;
}

bool ServerGroupCluster::pump(const std::vector<Member*>& members, const std::function<bool()>& pred,
                              milliseconds deadline) {
    auto end = steady_clock::now() + deadline;
    for (;;) {
        if (pred()) return true;
        auto left = duration_cast<milliseconds>(end - steady_clock::now()).count();
        if (left <= 0) return false;
        std::vector<pollfd> fds;
        int timeout = static_cast<int>(std::min<long long>(left, 100));
        for (Member* m : members) {
            fds.push_back({sg_client_fd(m->client()), POLLIN, 0});
            int t = sg_client_next_timeout_ms(m->client());
            if (t >= 0) timeout = std::min(timeout, t);
        }
        ::poll(fds.data(), fds.size(), timeout);
        for (Member* m : members) sg_client_process(m->client());
    }
}

bool ServerGroupCluster::wait_group_connected(int i, milliseconds deadline, bool heartbeats_active) {
    Member& m = member(i);
    const std::size_t expected = group_of(i).size();
    auto end = steady_clock::now() + deadline;
    while (steady_clock::now() < end) {
        std::size_t before = m.statuses.size();
        int id = sg_client_request_status(m.client(), 5000);
        if (id > 0 && pump(
                          {&m}, [&] { return m.statuses.size() > before; }, deadline)) {
            const auto& s = m.statuses.back();
            bool all = s.error == 0 && s.members.size() == expected;
            for (const auto& text : s.members) {
                auto j = nlohmann::json::parse(text, nullptr, false);
                all = all && j.value("messaging", "") == "connected" &&
                      (!heartbeats_active || j.value("heartbeat", "") == "active");
            }
            if (all) return true;
        }
        // The daemon has no host yet (-EHOSTDOWN), or a member is not yet
        // connected or its session not yet up.
        m.pump_for(50ms);
    }
    return false;
}

Member::StatusEnd ServerGroupCluster::status_of(int i) {
    Member& m = member(i);
    std::size_t before = m.statuses.size();
    int id = sg_client_request_status(m.client(), 10000);
    EXPECT_GT(id, 0) << name(i) << ": sg_client_request_status";
    if (id <= 0) return {};
    EXPECT_TRUE(pump(all_members(), [&] { return m.statuses.size() > before; })) << name(i) << ": no status answer";
    if (m.statuses.size() <= before) return {};
    EXPECT_EQ(m.statuses.back().query_id, static_cast<uint32_t>(id));
    return m.statuses.back();
}

void ServerGroupCluster::settle(int i) {
    auto s = status_of(i);
    EXPECT_EQ(s.error, 0) << name(i) << ": " << s.reason;
}

std::string ServerGroupCluster::ctl(const std::vector<std::string>& args, int* status) {
    std::vector<std::string> argv = {VMHOSTCTL, "--socket", root / "ctl.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    int rc = run_command(argv, &out, kE2eDeadline);
    if (status) *status = rc;
    return out;
}

nlohmann::json ServerGroupCluster::member_counters(const std::string& group, const std::string& vm_name) {
    auto g = nlohmann::json::parse(ctl({"--json", "group", "show", group}), nullptr, false);
    if (g.is_discarded() || !g.contains("members")) return {};
    for (const auto& m : g["members"])
        if (m.value("vm", "") == vm_name) return m.value("counters", nlohmann::json::object());
    return {};
}

std::vector<nlohmann::json> notifications_of(const Member& m) {
    std::vector<nlohmann::json> out;
    for (const auto& text : m.notifications) out.push_back(nlohmann::json::parse(text, nullptr, false));
    return out;
}

int count_notifications(const Member& m, const std::string& vm_name, const std::string& event) {
    int n = 0;
    for (const auto& j : notifications_of(m))
        if (j.is_object() && j.value("instance_name", "") == vm_name && j.value("event_type", "") == event) ++n;
    return n;
}

std::vector<std::string> payloads_from(const Member& m, const std::string& source) {
    std::vector<std::string> out;
    for (const auto& b : m.broadcasts)
        if (b.source == source) out.push_back(b.payload);
    return out;
}

}  // namespace gsdk::test
