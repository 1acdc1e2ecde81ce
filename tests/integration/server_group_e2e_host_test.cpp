// Server-group messaging end to end (server_group_cluster.h) as the host
// changes: members notified of each state change the host reports, the host
// going away during a query and coming back, a flooding member, a local
// user who is not allowed.
#include <signal.h>
#include <sys/wait.h>

#include <array>

#include "server_group_cluster.h"

using namespace gsdk::test;
using nlohmann::json;

namespace {

class ServerGroupHostEndToEnd : public ServerGroupCluster {
protected:
    json latest(const Member& m, const std::string& vm_name, const std::string& event) {
        json found;
        for (const auto& j : notifications_of(m))
            if (j.is_object() && j.value("instance_name", "") == vm_name && j.value("event_type", "") == event)
                found = j;
        return found;
    }
    // How often vm-2 and vm-3 have each been told `event` about vm-1. They
    // may differ: a member whose client joined late missed the start-up's.
    std::array<int, 2> told(const std::string& event) {
        return {count_notifications(member(2), "vm-1", event), count_notifications(member(3), "vm-1", event)};
    }
    // vm-2 and vm-3 each told `event` about vm-1 once more than `before`.
    bool wait_notified(const std::string& event, std::array<int, 2> before = {0, 0}) {
        return pump(all_members(), [&] {
            auto now = told(event);
            return now[0] > before[0] && now[1] > before[1];
        });
    }
    void action(const std::string& what) {
        int status = -1;
        std::string out = ctl({"action", "vm-1", what, "--timeout", "60"}, &status);
        EXPECT_EQ(status, 0) << out;
    }
    int sent_to_host(int i) { return log_lines(vm(i).sg_log(), "sent to the host"); }
    static int log_lines(const std::string& path, const std::string& text) {
        std::string log = read_file(path);
        int n = 0;
        for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
        return n;
    }
};

}  // namespace

TEST_F(ServerGroupHostEndToEnd, MembersAreNotifiedOfEachStateChangeTheHostReports) {
    start();
    ASSERT_FALSE(HasFatalFailure());

    // heartbeat_up: vm-1's guest-heartbeatd starts a new session.
    auto ups = told("heartbeat_up");
    vm(1).heartbeat.stop();
    start_heartbeat(1);
    ASSERT_TRUE(wait_notified("heartbeat_up", ups));

    // Host actions: begin and end of each, with the states they lead to.
    struct Step {
        std::string action, event, state_after, power_after, task_during;
    };
    const Step steps[] = {
        {"pause", "pause", "paused", "paused", "pausing"},
        {"unpause", "unpause", "active", "running", "unpausing"},
        {"live-migrate", "live_migrate", "active", "running", "migrating"},
        {"reboot", "reboot", "active", "running", "rebooting"},
    };
    for (const auto& s : steps) {
        action(s.action);
        ASSERT_TRUE(wait_notified(s.event + "_end")) << s.action;
        ASSERT_EQ(count_notifications(member(2), "vm-1", s.event + "_begin"), 1) << s.action;
        ASSERT_EQ(count_notifications(member(3), "vm-1", s.event + "_begin"), 1) << s.action;
        json begin = latest(member(2), "vm-1", s.event + "_begin");
        EXPECT_EQ(begin.value("task_state", ""), s.task_during) << begin;
        json end = latest(member(3), "vm-1", s.event + "_end");
        EXPECT_EQ(end.value("state", ""), s.state_after) << end;
        EXPECT_EQ(end.value("power_state", ""), s.power_after) << end;
        EXPECT_TRUE(end["task_state"].is_null()) << end;
        EXPECT_EQ(end.value("instance_id", ""), "vm-1");
        EXPECT_EQ(end["server_groups"], json::array({"g1"}));
        EXPECT_TRUE(end.contains("old_state") && end.contains("old_task_state") && end.contains("timestamp")) << end;
    }

    // After the reboot the host waits for the guest's new session: the
    // rebooted guest's guest-heartbeatd starts one.
    ups = told("heartbeat_up");
    vm(1).heartbeat.stop();
    start_heartbeat(1);
    ASSERT_TRUE(wait_notified("heartbeat_up", ups));

    // heartbeat_lost: vm-1's guest-heartbeatd stops answering.
    vm(1).heartbeat.signal(SIGSTOP);
    ASSERT_TRUE(wait_notified("heartbeat_lost"));
    EXPECT_FALSE(latest(member(2), "vm-1", "heartbeat_lost").value("reason", "").empty());
    vm(1).heartbeat.signal(SIGCONT);

    // stop: the executor kills vm-1's daemons, as a power-off would.
    action("stop");
    ASSERT_TRUE(wait_notified("stop_end"));
    EXPECT_EQ(count_notifications(member(2), "vm-1", "stop_begin"), 1);
    json stopped = latest(member(2), "vm-1", "stop_end");
    EXPECT_EQ(stopped.value("state", ""), "stopped") << stopped;
    EXPECT_EQ(stopped.value("power_state", ""), "shutdown") << stopped;
    EXPECT_EQ(stopped.value("old_state", ""), "active") << stopped;
    EXPECT_TRUE(vm(1).messaging.wait(kE2eDeadline)) << "the executor did not stop vm-1";

    // The other group heard nothing of vm-1, and vm-1's status in the
    // group's answer is what the host last reported.
    settle(4);
    EXPECT_TRUE(member(4).notifications.empty()) << member(4).notifications.front();
    auto status = status_of(2);
    ASSERT_EQ(status.error, 0) << status.reason;
    bool seen = false;
    for (const auto& text : status.members) {
        auto m = json::parse(text);
        if (m.value("instance_name", "") != "vm-1") continue;
        seen = true;
        EXPECT_EQ(m.value("state", ""), "stopped") << m;
    }
    EXPECT_TRUE(seen) << status.array;
}

TEST_F(ServerGroupHostEndToEnd, HostGoneDuringAQueryEndsItWithEhostdown) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    // The host takes the query but never answers: it is stopped, then killed.
    vmhostd.signal(SIGSTOP);
    int before = sent_to_host(1);
    Member& m = member(1);
    std::size_t answers = m.statuses.size();
    int id = sg_client_request_status(m.client(), 20000);
    ASSERT_GT(id, 0);
    ASSERT_TRUE(pump(all_members(), [&] { return sent_to_host(1) > before; })) << "the query never left vm-1";
    EXPECT_EQ(m.statuses.size(), answers) << "an answer came from a stopped host";
    vmhostd.kill_group();
    ASSERT_TRUE(pump(all_members(), [&] { return m.statuses.size() > answers; }));
    EXPECT_EQ(m.statuses.back().query_id, static_cast<uint32_t>(id));
    EXPECT_EQ(m.statuses.back().error, -EHOSTDOWN) << m.statuses.back().reason;
    EXPECT_FALSE(m.statuses.back().reason.empty());
    EXPECT_TRUE(m.statuses.back().members.empty());
    // Asked while no host is there: refused at once, with the same errno.
    ASSERT_TRUE(pump(all_members(), [&] { return sg_client_request_status(m.client(), 0) == -EHOSTDOWN; }));
}

TEST_F(ServerGroupHostEndToEnd, RelayRestartedTrafficFlowsAgainWithoutTheClientsDoingAnything) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    vmhostd.kill_group();
    // Every VM's daemon tells its members that the host is gone.
    ASSERT_TRUE(pump(all_members(), [&] {
        for (int i = 1; i <= kVms; ++i)
            if (sg_client_broadcast(member(i).client(), "x", 1) != -EHOSTDOWN) return false;
        return true;
    }));
    start_vmhostd();
    ASSERT_FALSE(HasFatalFailure());
    for (int i = 1; i <= kVms; ++i) ASSERT_TRUE(wait_group_connected(i)) << name(i);

    std::string payload = "after the relay restart";
    ASSERT_EQ(sg_client_broadcast(member(3).client(), payload.data(), payload.size()), 0);
    ASSERT_TRUE(pump(all_members(), [&] {
        return !payloads_from(member(1), "vm-3").empty() && !payloads_from(member(2), "vm-3").empty();
    }));
    EXPECT_EQ(payloads_from(member(1), "vm-3").back(), payload);
    EXPECT_EQ(payloads_from(member(2), "vm-3").back(), payload);
    // The clients never lost their daemon: no reconnect was needed.
    for (int i = 1; i <= kVms; ++i) EXPECT_EQ(member(i).links, std::vector<bool>{true}) << name(i);
}

TEST_F(ServerGroupHostEndToEnd, DaemonRestartedItsClientsReconnectByThemselves) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    vm(2).messaging.kill_group();
    ASSERT_TRUE(pump(all_members(), [&] { return !member(2).connected(); }));
    // A new daemon on the same sockets, as systemd's restart would start.
    {
        SimulatedVm& v = vm(2);
        v.messaging.start({SERVER_GROUPD, "--listen", "unix:" + v.messaging_socket(), "--config", v.dir + "/sg.conf",
                           "--socket-dir", v.dir + "/sg", "--log-level", "debug"},
                          v.sg_log());
    }
    ASSERT_TRUE(pump(all_members(), [&] { return member(2).connected(); })) << member(2).link_reason;
    ASSERT_TRUE(wait_group_connected(2));
    std::string payload = "after the daemon restart";
    ASSERT_EQ(sg_client_broadcast(member(1).client(), payload.data(), payload.size()), 0);
    ASSERT_TRUE(pump(all_members(), [&] { return !payloads_from(member(2), "vm-1").empty(); }));
    EXPECT_EQ(payloads_from(member(2), "vm-1").back(), payload);
}

// vmhostd takes 1 line per second from a VM after a burst of 50; vm-1's
// daemon lets its members send as fast as they like, so the host's bound is
// the one met.
class ServerGroupFlood : public ServerGroupHostEndToEnd {
protected:
    ServerGroupFlood() {
        messaging_limits = {{"messages_per_sec", 1}, {"burst", 50}};
        extra_sg_config[1] = "BROADCAST_RATE=100000\nBROADCAST_BURST=100000";
    }
};

TEST_F(ServerGroupFlood, AFloodingMemberIsBoundedAndCountedAndTheOthersAreUnaffected) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    auto sum = [](const json& c) {
        return c.value("broadcasts_in", 0) + c.value("dropped_in", 0) + c.value("status_queries", 0) +
               c.value("refused", 0);
    };
    const int before = sum(member_counters("g1", "vm-1"));
    const int relayed_before = member_counters("g1", "vm-1").value("broadcasts_in", 0);

    constexpr int kFlood = 1000;
    Subprocess flooder;
    std::string log = root / "flood.log";
    flooder.start({SG_PROBE, "--flood", std::to_string(kFlood), "--socket", vm(1).client_socket()}, log);
    auto flood_done = [&] { return read_file(log).find("\"flood_done\"") != std::string::npos; };
    ASSERT_TRUE(pump(all_members(), flood_done, 60s)) << read_file(log);
    json done;
    for (std::size_t at = 0, nl; (nl = read_file(log).find('\n', at)) != std::string::npos; at = nl + 1) {
        auto j = json::parse(read_file(log).substr(at, nl - at), nullptr, false);
        if (j.is_object() && j.value("event", "") == "flood_done") done = j;
    }
    ASSERT_EQ(done.value("accepted", 0), kFlood) << read_file(log);

    // Every line the flooder's VM sent (its broadcasts and the probe's
    // closing status query) is counted by the host: relayed or dropped.
    json counters;
    ASSERT_TRUE(pump(all_members(), [&] {
        counters = member_counters("g1", "vm-1");
        return sum(counters) - before == kFlood + 1;
    })) << counters;
    const int relayed = counters.value("broadcasts_in", 0) - relayed_before;
    EXPECT_GT(counters.value("dropped_in", 0), 0) << counters;
    EXPECT_LT(relayed, kFlood) << counters;

    // The others got every relayed copy and nothing was dropped for them.
    auto flood_copies = [](const Member& m) {
        int n = 0;
        for (const auto& b : m.broadcasts) n += b.source == "vm-1" && b.payload.rfind("flood-", 0) == 0;
        return n;
    };
    ASSERT_TRUE(
        pump(all_members(), [&] { return flood_copies(member(2)) == relayed && flood_copies(member(3)) == relayed; }))
        << flood_copies(member(2)) << " and " << flood_copies(member(3)) << " of " << relayed;
    for (int i : {2, 3}) {
        auto c = member_counters("g1", name(i));
        EXPECT_EQ(c.value("dropped_in", -1), 0) << name(i) << c;
        EXPECT_EQ(c.value("dropped_out", -1), 0) << name(i) << c;
        EXPECT_EQ(member(i).lost, 0u) << name(i);
    }
    // vm-2's traffic still flows both ways.
    std::string payload = "still here";
    ASSERT_EQ(sg_client_broadcast(member(2).client(), payload.data(), payload.size()), 0);
    ASSERT_TRUE(pump(all_members(), [&] {
        return !payloads_from(member(1), "vm-2").empty() && !payloads_from(member(3), "vm-2").empty();
    }));
    auto status = status_of(3);
    EXPECT_EQ(status.error, 0) << status.reason;
    EXPECT_EQ(status.members.size(), 3u);
}

// vm-1's daemon: sockets of group 4242, members of group 4343 allowed.
class ServerGroupLocalUsers : public ServerGroupHostEndToEnd {
protected:
    ServerGroupLocalUsers() { extra_sg_config[1] = "SOCKET_GROUP=4242\nALLOWED_GROUPS=4343"; }

    // What a member run as `who` in vm-1 saw: "accepted"/"refused", the
    // broadcast's return, the link's reason.
    std::string try_as(const Identity& who, const std::string& payload) {
        const std::string socket = vm(1).client_socket();
        return run_in_child_as(who, [&socket, &payload] {
            Member m(socket);
            if (!m.pump_until([&] { return !m.links.empty(); }, 20s)) return std::string("no answer");
            int rc = sg_client_broadcast(m.client(), payload.data(), payload.size());
            return std::string(m.links.back() ? "accepted" : "refused") + " rc=" + std::to_string(rc) + " " +
                   m.link_reason;
        });
    }
};

TEST_F(ServerGroupLocalUsers, LocalUsersWhoAreNotAllowedAreRefusedAndChangeNothing) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    const std::string refused = "refused rc=-" + std::to_string(EACCES);
    // Not in the socket's group: the socket's mode turns it away.
    std::string stranger = try_as(Identity{65534, 65534, {}}, "from a stranger");
    EXPECT_EQ(stranger.rfind(refused, 0), 0u) << stranger;
    EXPECT_NE(stranger.find("not allowed"), std::string::npos) << stranger;
    // In the socket's group but not among the allowed: the daemon's own check.
    std::string grouped = try_as(Identity{4444, 4444, {4242}}, "from the socket group");
    EXPECT_EQ(grouped.rfind(refused, 0), 0u) << grouped;
    EXPECT_NE(grouped.find("not allowed"), std::string::npos) << grouped;
    EXPECT_TRUE(pump(all_members(), [&] {
        return read_file(vm(1).sg_log()).find("client refused: not allowed: uid 4444") != std::string::npos;
    })) << "the daemon did not log the refusal with its cause";
    // An allowed user's broadcast goes through, and only it reaches the group
    // (waited for before the next, which comes from another connection).
    std::string allowed = try_as(Identity{4545, 4545, {4242, 4343}}, "from an allowed user");
    EXPECT_EQ(allowed.rfind("accepted rc=0", 0), 0u) << allowed;
    auto both_have = [&](std::size_t n) {
        return pump(all_members(), [&] {
            return payloads_from(member(2), "vm-1").size() >= n && payloads_from(member(3), "vm-1").size() >= n;
        });
    };
    ASSERT_TRUE(both_have(1));
    std::string payload = "members only";
    ASSERT_EQ(sg_client_broadcast(member(1).client(), payload.data(), payload.size()), 0);
    ASSERT_TRUE(both_have(2));
    settle(2);
    settle(3);
    const std::vector<std::string> expected = {"from an allowed user", payload};
    EXPECT_EQ(payloads_from(member(2), "vm-1"), expected);
    EXPECT_EQ(payloads_from(member(3), "vm-1"), expected);
}
