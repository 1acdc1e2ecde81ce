// The server-group relay of vmhostd as guests see it: four VMs with fake
// server-groupds, g1 = vm-1 vm-2 vm-3 and g2 = vm-3 vm-4 (server_group_fixture.h).
#include <gtest/gtest.h>

#include "server_group_fixture.h"

namespace hosttest {
namespace {

using CA = hb::CorrectiveAction;

// Payloads that must arrive byte for byte.
std::vector<std::string> tricky_payloads() {
    std::string big;
    // Multi-byte UTF-8 and JSON-escaped bytes up to exactly the API's 3050 bytes.
    const std::string piece = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"\\\n\t/";  // é € 😀 " \ newline tab /
    while (big.size() + piece.size() <= 3050) big += piece;
    big += std::string(3050 - big.size(), 'z');
    return {"x", "quote \" backslash \\ newline \n end", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \x01\x1f", big};
}

// Lines of one msg_type among `lines`.
std::vector<nlohmann::json> of_type(const std::vector<nlohmann::json>& lines, const std::string& type) {
    std::vector<nlohmann::json> out;
    for (const auto& l : lines)
        if (msg_type_of(l) == type) out.push_back(l);
    return out;
}

class ServerGroups : public ServerGroupFixture {};

TEST_F(ServerGroups, BroadcastReachesEveryOtherMemberByteExactAndNobodyElse) {
    auto payloads = tricky_payloads();
    ASSERT_EQ(payloads.back().size(), 3050u);
    for (const auto& p : payloads) guest(1).broadcast(p);
    for (int to : {2, 3}) {
        for (const auto& p : payloads) {
            auto line = guest(to).next_of("broadcast", kPatience);
            ASSERT_TRUE(line) << name(to) << " did not get a broadcast";
            EXPECT_EQ((*line)["version"], 2);
            EXPECT_EQ((*line)["source_addr"], "cgcs.server_grp");
            EXPECT_EQ((*line)["dest_addr"], "cgcs.server_grp");
            const auto& data = (*line)["data"];
            EXPECT_EQ(data["source_instance"], "vm-1");
            ASSERT_TRUE(data["data"].is_string());
            EXPECT_EQ(data["data"].get<std::string>(), p) << "payload of " << p.size() << " bytes changed";
        }
    }
    // Not back to the sender, not to vm-4 (g2 only): whatever vmhostd wrote
    // them before answering their status query has arrived by then.
    for (int i : {1, 4}) {
        auto before = guest(i).sync(100 + i, kPatience);
        ASSERT_TRUE(before) << name(i);
        EXPECT_TRUE(of_type(*before, "broadcast").empty()) << name(i) << " got a broadcast of vm-1";
    }
    // vm-4's broadcast reaches vm-3, the other member of g2, and nobody else.
    guest(4).broadcast("from g2");
    auto line = guest(3).next_of("broadcast", kPatience);
    ASSERT_TRUE(line);
    EXPECT_EQ((*line)["data"]["source_instance"], "vm-4");
    EXPECT_EQ((*line)["data"]["data"], "from g2");
    for (int i : {1, 2, 4}) {
        auto before = guest(i).sync(200 + i, kPatience);
        ASSERT_TRUE(before);
        EXPECT_TRUE(of_type(*before, "broadcast").empty()) << name(i) << " got vm-4's broadcast";
    }
    // Counted per group and per member.
    auto g1 = ctl_json({"group", "show", "g1"});
    EXPECT_EQ(g1["counters"]["broadcasts"], payloads.size());
    EXPECT_EQ(g1["counters"]["deliveries"], 2 * payloads.size());
    EXPECT_EQ(member_counters("g1", "vm-1")["broadcasts_in"], payloads.size());
    EXPECT_EQ(member_counters("g1", "vm-2")["broadcasts_out"], payloads.size());
    EXPECT_EQ(member_counters("g2", "vm-3")["broadcasts_out"], payloads.size() + 1);
    EXPECT_EQ(ctl_json({"group", "show", "g2"})["counters"]["broadcasts"], 1);
}

TEST_F(ServerGroups, StatusQueryAnswersOneResponsePerMemberThenDone) {
    guest(3).status_query(77);  // vm-3 is in g1 and g2: every VM is a member with it
    std::vector<std::string> members;
    for (;;) {
        auto line = guest(3).next(kPatience);
        ASSERT_TRUE(line) << "no status_response_done";
        std::string type = msg_type_of(*line);
        const auto& data = (*line)["data"];
        EXPECT_EQ(data["seq"], 77) << line->dump();
        if (type == "status_response_done") break;
        ASSERT_EQ(type, "status_response") << line->dump();
        const auto& s = data["data"];
        ASSERT_TRUE(s.is_object());
        members.push_back(s["instance_name"]);
        EXPECT_EQ(s["instance_id"], s["instance_name"]);
        EXPECT_EQ(s["state"], "active");
        EXPECT_TRUE(s["task_state"].is_null());
        EXPECT_EQ(s["power_state"], "running");
        EXPECT_EQ(s["messaging"], "connected");
        EXPECT_EQ(s["heartbeat"], "waiting-init");
        EXPECT_TRUE(s["host"].is_string() && !s["host"].get<std::string>().empty());
        EXPECT_TRUE(s["server_groups"].is_array());
    }
    EXPECT_EQ(members, (std::vector<std::string>{"vm-1", "vm-2", "vm-3", "vm-4"}));
    // A member of g1 only: g1's three members, with the new seq.
    auto before = guest(1).sync(5, kPatience);
    ASSERT_TRUE(before);
    std::vector<std::string> g1;
    for (const auto& l : of_type(*before, "status_response")) {
        EXPECT_EQ(l["data"]["seq"], 5);
        g1.push_back(l["data"]["data"]["instance_name"]);
    }
    EXPECT_EQ(g1, (std::vector<std::string>{"vm-1", "vm-2", "vm-3"}));
    // Answers go to the asking service's source_addr.
    guest(2).send_raw(nlohmann::json{{"version", 2},
                                     {"source_addr", "sg.second"},
                                     {"dest_addr", "cgcs.server_grp"},
                                     {"data", {{"version", 2}, {"msg_type", "status_query"}, {"seq", 6}}}}
                          .dump() +
                      "\n");
    auto done = guest(2).next_of("status_response_done", kPatience);
    ASSERT_TRUE(done);
    EXPECT_EQ((*done)["dest_addr"], "sg.second");
    EXPECT_EQ((*done)["source_addr"], "cgcs.server_grp");
    EXPECT_EQ(member_counters("g1", "vm-1")["status_queries"], 1);
    EXPECT_EQ(ctl_json({"group", "show", "g2"})["counters"]["status_queries"], 1);
    EXPECT_EQ(ctl_json({"group", "show", "g1"})["counters"]["status_queries"], 3);
}

TEST_F(ServerGroups, HostActionsNotifyTheOtherMembers) {
    // No heartbeat session: carried out at once, without a vote.
    auto r = ctl({"action", "vm-2", "stop"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (int to : {1, 3}) {
        auto begin = guest(to).next_of("notification", kPatience);
        ASSERT_TRUE(begin);
        const auto& b = (*begin)["data"]["data"];
        EXPECT_EQ(b["event_type"], "stop_begin");
        EXPECT_EQ(b["instance_name"], "vm-2");
        EXPECT_EQ(b["task_state"], "powering-off");
        EXPECT_EQ(b["state"], "active");
        auto end = guest(to).next_of("notification", kPatience);
        ASSERT_TRUE(end);
        const auto& e = (*end)["data"]["data"];
        EXPECT_EQ(e["event_type"], "stop_end");
        EXPECT_EQ(e["state"], "stopped");
        EXPECT_EQ(e["old_state"], "active");
        EXPECT_EQ(e["power_state"], "shutdown");
        EXPECT_TRUE(e["task_state"].is_null());
        EXPECT_TRUE(e["timestamp"].is_string());
    }
    for (int i : {2, 4}) {
        auto before = guest(i).sync(300 + i, kPatience);
        ASSERT_TRUE(before);
        EXPECT_TRUE(of_type(*before, "notification").empty()) << name(i) << " was told of vm-2's stop";
    }

    ASSERT_EQ(ctl({"action", "vm-1", "pause"}).exit_code, 0);
    ASSERT_EQ(ctl({"action", "vm-1", "unpause"}).exit_code, 0);
    std::vector<std::string> seen;
    nlohmann::json paused;
    for (int n = 0; n < 4; ++n) {
        auto line = guest(2).next_of("notification", kPatience);
        ASSERT_TRUE(line);
        const auto& d = (*line)["data"]["data"];
        EXPECT_EQ(d["instance_name"], "vm-1");
        seen.push_back(d["event_type"]);
        if (d["event_type"] == "pause_end") paused = d;
        if (d["event_type"] == "unpause_end") {
            EXPECT_EQ(d["state"], "active");
            EXPECT_EQ(d["old_state"], "paused");
        }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"pause_begin", "pause_end", "unpause_begin", "unpause_end"}));
    EXPECT_EQ(paused["state"], "paused");
    EXPECT_EQ(paused["power_state"], "paused");

    // vm-3 is in both groups: all three others hear of its migration.
    ASSERT_EQ(ctl({"action", "vm-3", "live-migrate"}).exit_code, 0);
    for (int to : {1, 2, 4}) {
        auto begin = guest(to).next_of("notification", kPatience);
        auto end = guest(to).next_of("notification", kPatience);
        ASSERT_TRUE(begin && end) << name(to);
        EXPECT_EQ((*begin)["data"]["data"]["event_type"], "live_migrate_begin");
        EXPECT_EQ((*begin)["data"]["data"]["task_state"], "migrating");
        EXPECT_EQ((*end)["data"]["data"]["event_type"], "live_migrate_end");
        EXPECT_EQ((*end)["data"]["data"]["instance_name"], "vm-3");
    }
    // The state is kept for status answers too.
    auto before = guest(1).sync(9, kPatience);
    ASSERT_TRUE(before);
    for (const auto& l : of_type(*before, "status_response")) {
        if (l["data"]["data"]["instance_name"] == "vm-2") {
            EXPECT_EQ(l["data"]["data"]["state"], "stopped");
        }
    }
    EXPECT_EQ(member_counters("g1", "vm-2")["notifications"], 6);  // vm-1 pause/unpause, vm-3 migration
    EXPECT_EQ(member_counters("g2", "vm-4")["notifications"], 2);
}

TEST_F(ServerGroups, HeartbeatSessionAndLossAreNotified) {
    // Corrective action none: the loss is only recorded, nothing is executed.
    ASSERT_TRUE(hb_guest(2).init(400, CA::None));
    auto up = guest(1).next_of("notification", kPatience);
    ASSERT_TRUE(up);
    EXPECT_EQ((*up)["data"]["data"]["event_type"], "heartbeat_up");
    EXPECT_EQ((*up)["data"]["data"]["instance_name"], "vm-2");
    EXPECT_EQ((*up)["data"]["data"]["heartbeat"], "active");
    // The fake guest stops answering challenges: two missed ones are a loss.
    auto lost = guest(3).next_of("notification", kPatience);
    ASSERT_TRUE(lost);
    EXPECT_EQ((*lost)["data"]["data"]["event_type"], "heartbeat_up");
    lost = guest(3).next_of("notification", kPatience);
    ASSERT_TRUE(lost);
    EXPECT_EQ((*lost)["data"]["data"]["event_type"], "heartbeat_lost");
    EXPECT_EQ((*lost)["data"]["data"]["heartbeat"], "lost");
    EXPECT_NE((*lost)["data"]["data"]["reason"].get<std::string>().find("heartbeat loss"), std::string::npos);
    auto loss1 = guest(1).next_of("notification", kPatience);
    ASSERT_TRUE(loss1);
    EXPECT_EQ((*loss1)["data"]["data"]["event_type"], "heartbeat_lost");
}

TEST_F(ServerGroups, GuestsAreReconnectedAfterADisconnectAndARelayRestart) {
    // server-groupd in vm-2 restarts: vmhostd connects again.
    guest(2).disconnect();
    ASSERT_TRUE(guest(2).accept(kPatience)) << daemon.log();
    guest(1).broadcast("after guest restart");
    auto line = guest(2).next_of("broadcast", kPatience);
    ASSERT_TRUE(line);
    EXPECT_EQ((*line)["data"]["data"], "after guest restart");

    // vmhostd restarts: every guest sees the hang-up, then a new connection.
    ASSERT_EQ(daemon.stop(), 0) << daemon.log();
    for (int i = 1; i <= kVms; ++i) {
        while (guest(i).next(kPatience)) {}  // what was still unread, then the hang-up
        EXPECT_FALSE(guest(i).connected()) << name(i);
        hb_guest(i).disconnect();
    }
    start_vmhostd();
    for (int i = 1; i <= kVms; ++i) {
        ASSERT_TRUE(hb_guest(i).accept());
        ASSERT_TRUE(guest(i).accept(kPatience)) << name(i) << " not reconnected\n" << daemon.log();
    }
    guest(3).broadcast("after relay restart");
    for (int to : {1, 2, 4}) {
        auto l = guest(to).next_of("broadcast", kPatience);
        ASSERT_TRUE(l) << name(to);
        EXPECT_EQ((*l)["data"]["source_instance"], "vm-3");
        EXPECT_EQ((*l)["data"]["data"], "after relay restart");
    }
}

TEST_F(ServerGroups, MalformedAndHostileLinesAreNackedCountedAndHarmless) {
    struct Case {
        std::string line;
        std::string orig_msg_type;  // expected in the nack; empty: none
        std::string cause;          // part of log_msg
    };
    auto env = [](const nlohmann::json& data) {
        return nlohmann::json{
            {"version", 2}, {"source_addr", "cgcs.server_grp"}, {"dest_addr", "cgcs.server_grp"}, {"data", data}}
            .dump();
    };
    std::string nested(15000, '[');
    nested += std::string(15000, ']');
    std::vector<Case> cases = {
        {"{not json", "", "not valid JSON"},
        {"[1,2,3]", "", "not an object"},
        {nested, "", "not an object"},
        {R"({"version":2,"dest_addr":"cgcs.server_grp"})", "", "data"},
        {R"({"version":2,"dest_addr":"cgcs.server_grp","data":"{\"msg_type\":\"broadcast\"}"})", "", "data"},
        {R"({"version":1,"dest_addr":"cgcs.server_grp","data":{"msg_type":"broadcast","data":"x"}})", "broadcast",
         "version"},
        {R"({"version":2,"dest_addr":"cgcs.server_group_too_long","data":{"msg_type":"broadcast"}})", "broadcast",
         "dest_addr"},
        {R"({"version":2,"dest_addr":"cgcs.elsewhere","data":{"msg_type":"broadcast","data":"x"}})", "broadcast",
         "no host service"},
        {env({{"version", 2}, {"data", "no type"}}), "", "msg_type"},
        {env({{"version", 2}, {"msg_type", "frobnicate"}}), "frobnicate", "unknown msg_type"},
        {env({{"version", 2}, {"msg_type", "broadcast"}}), "broadcast", "without data"},
        {env({{"version", 2}, {"msg_type", "broadcast"}, {"data", 12}}), "broadcast", "not a string"},
        {env({{"version", 2}, {"msg_type", "broadcast"}, {"data", std::string(3051, 'o')}}), "broadcast", "3050"},
        {env({{"version", 2}, {"msg_type", "status_query"}}), "status_query", "without seq"},
        {env({{"version", 2}, {"msg_type", "status_query"}, {"seq", -1}}), "status_query", "seq"},
        {env({{"version", 2}, {"msg_type", "status_query"}, {"seq", "7"}}), "status_query", "seq"},
        {env({{"version", 2}, {"msg_type", "status_query"}, {"seq", 1e300}}), "status_query", "seq"},
        {R"({"version":2,"dest_addr":"cgcs.server_grp","data":{"msg_type":"status_query","seq":18446744073709551615}})",
         "status_query", "seq"},
        // Refused unread: too long to be worth parsing.
        {env({{"version", 2}, {"msg_type", "broadcast"}, {"data", std::string(40000, 'o')}}), "", "over the limit"},
        {"{\"version\":2,\"dest_addr\":\"cgcs.server_grp\",\"data\":{\"msg_type\":\"broadcast\",\"data\":\"\xff\xfe\"}"
         "}",
         "", "not valid JSON"},
    };
    for (const auto& c : cases) {
        guest(1).send_raw(c.line + "\n");
        auto nack = guest(1).next_of("nack", kPatience);
        ASSERT_TRUE(nack) << "no nack for " << c.line.substr(0, 120);
        const auto& d = (*nack)["data"];
        EXPECT_EQ(d["version"], 2);
        ASSERT_TRUE(d["log_msg"].is_string());
        EXPECT_NE(d["log_msg"].get<std::string>().find(c.cause), std::string::npos)
            << d["log_msg"] << " for " << c.line.substr(0, 120);
        if (c.orig_msg_type.empty())
            EXPECT_FALSE(d.contains("orig_msg_type")) << d.dump();
        else
            EXPECT_EQ(d.value("orig_msg_type", ""), c.orig_msg_type) << c.line.substr(0, 120);
    }
    // A line longer than anything vmhostd reads whole is discarded unread,
    // and a guest's nack is only noted: neither is answered.
    guest(1).send_raw(std::string(200000, 'q') + "\n");
    guest(1).send_data({{"version", 2}, {"msg_type", "nack"}, {"log_msg", "we did not like that"}});
    // Nothing of it reached another member; vmhostd still relays.
    auto before = guest(2).sync(1, kPatience);
    ASSERT_TRUE(before);
    EXPECT_TRUE(of_type(*before, "broadcast").empty());
    auto own = guest(1).sync(2, kPatience);
    ASSERT_TRUE(own);
    EXPECT_TRUE(of_type(*own, "nack").empty()) << "a nack was answered, or a huge line was";
    guest(1).broadcast("still fine");
    auto line = guest(2).next_of("broadcast", kPatience);
    ASSERT_TRUE(line);
    EXPECT_EQ((*line)["data"]["data"], "still fine");
    auto counters = member_counters("g1", "vm-1");
    EXPECT_EQ(counters["nacks"], cases.size());
    EXPECT_EQ(counters["refused"], cases.size());
    EXPECT_EQ(counters["broadcasts_in"], 1);
    EXPECT_TRUE(daemon.running());
    // The event log names the cause (at a bounded rate: see TokenBucket's unit test).
    auto events = ctl_json({"events", "vm-1", "--limit", "1000"});
    bool named = false;
    for (const auto& e : events["events"])
        named = named || (e["kind"] == "server-group" &&
                          e["detail"].get<std::string>().find("not valid JSON") != std::string::npos);
    EXPECT_TRUE(named) << events.dump();
}

TEST_F(ServerGroups, GroupsAreManagedAtRunTimeAndShownByVmhostctl) {
    auto r = ctl({"group", "create", "g3", "vm-1", "vm-4"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    guest(1).broadcast("to g1 and g3");
    for (int to : {2, 3, 4}) {
        auto line = guest(to).next_of("broadcast", kPatience);
        ASSERT_TRUE(line) << name(to);
        EXPECT_EQ((*line)["data"]["data"], "to g1 and g3");
    }
    ASSERT_EQ(ctl({"group", "remove", "g3", "vm-4"}).exit_code, 0);
    ASSERT_EQ(ctl({"group", "add", "g2", "vm-2"}).exit_code, 0);
    guest(1).broadcast("after the change");
    auto before = guest(4).sync(4, kPatience);
    ASSERT_TRUE(before);
    EXPECT_TRUE(of_type(*before, "broadcast").empty()) << "vm-4 left g3 but still gets vm-1's broadcasts";
    // Members hear who joined or left their group.
    auto joined = of_type(*before, "notification");
    ASSERT_EQ(joined.size(), 1u);
    EXPECT_EQ(joined[0]["data"]["data"]["event_type"], "server_group_join");
    EXPECT_EQ(joined[0]["data"]["data"]["instance_name"], "vm-2");
    EXPECT_EQ(joined[0]["data"]["data"]["server_group"], "g2");
    auto left = guest(1).next_of("notification", kPatience);
    ASSERT_TRUE(left);
    EXPECT_EQ((*left)["data"]["data"]["event_type"], "server_group_leave");
    EXPECT_EQ((*left)["data"]["data"]["instance_name"], "vm-4");
    EXPECT_EQ((*left)["data"]["data"]["server_group"], "g3");
    guest(4).broadcast("g2 now has vm-2");
    auto line = guest(2).next_of("broadcast", kPatience);
    ASSERT_TRUE(line);
    EXPECT_EQ((*line)["data"]["data"], "after the change");
    line = guest(2).next_of("broadcast", kPatience);
    ASSERT_TRUE(line);
    EXPECT_EQ((*line)["data"]["source_instance"], "vm-4");

    // Tables line up under their headers.
    r = ctl({"group", "list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string header = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(header.rfind("GROUP", 0), 0u) << r.out;
    auto g2 = r.out.find("\ng2 ");
    ASSERT_NE(g2, std::string::npos) << r.out;
    std::string row = r.out.substr(g2 + 1, r.out.find('\n', g2 + 1) - g2 - 1);
    EXPECT_EQ(row.find("vm-3,vm-4,vm-2"), header.find("MEMBERS")) << r.out;
    r = ctl({"group", "show", "g1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("server group g1: 3 member(s), 2 broadcasts", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("BCAST-IN"), std::string::npos) << r.out;
    r = ctl({"list"});
    ASSERT_EQ(r.exit_code, 0);
    header = r.out.substr(0, r.out.find('\n'));
    auto vm2 = r.out.find("\nvm-2 ");
    ASSERT_NE(vm2, std::string::npos) << r.out;
    row = r.out.substr(vm2 + 1, r.out.find('\n', vm2 + 1) - vm2 - 1);
    EXPECT_EQ(row.find("connected"), header.find("MESSAGING")) << r.out;
    EXPECT_EQ(row.find("g1,g2"), header.find("GROUPS")) << r.out;
    auto list = ctl_json({"list"});
    ASSERT_EQ(list["vms"].size(), 4u);
    EXPECT_EQ(list["vms"][1]["server_groups"], (nlohmann::json{"g1", "g2"}));
    EXPECT_EQ(list["vms"][1]["messaging"], "connected");
    EXPECT_EQ(list["vms"][0]["messaging_counters"]["broadcasts_in"], 2);

    // A VM in no group: its broadcast is refused, its status query answered empty.
    ASSERT_EQ(ctl({"group", "remove", "g2", "vm-4"}).exit_code, 0);
    guest(4).broadcast("anyone?");
    auto refused = guest(4).next_of("nack", kPatience);
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["data"]["log_msg"], "vm-4 is not a member of any server group");
    EXPECT_EQ((*refused)["data"]["orig_msg_type"], "broadcast");
    auto alone = guest(4).sync(44, kPatience);
    ASSERT_TRUE(alone);
    EXPECT_TRUE(of_type(*alone, "status_response").empty());

    ASSERT_EQ(ctl({"group", "delete", "g3"}).exit_code, 0);
    auto all = ctl_json({"group", "list"});
    ASSERT_EQ(all["groups"].size(), 2u);
    EXPECT_EQ(all["groups"][0]["name"], "g1");
    // Refusals name the problem.
    struct Bad {
        std::vector<std::string> args;
        std::string message;
    };
    for (const auto& b : std::vector<Bad>{{{"group", "create", "g1"}, "exists already"},
                                          {{"group", "create", "g9", "vm-9"}, "unknown VM \"vm-9\""},
                                          {{"group", "create", "bad/name"}, "group name"},
                                          {{"group", "add", "g1", "vm-1"}, "already a member"},
                                          {{"group", "remove", "g2", "vm-1"}, "not a member"},
                                          {{"group", "show", "g7"}, "unknown server group \"g7\""},
                                          {{"group", "delete", "g7"}, "unknown server group"},
                                          {{"group", "frob", "g1"}, "wrong arguments for group"},
                                          {{"group", "add", "g1"}, "wrong arguments for group"}}) {
        auto res = ctl(b.args);
        EXPECT_EQ(res.exit_code, 2) << b.args[1];
        EXPECT_NE(res.err.find(b.message), std::string::npos) << b.args[1] << ": " << res.err;
    }
}

// A tight rate: a flooding member is cut off, the others are not.
class ServerGroupFlood : public ServerGroupFixture {
protected:
    ServerGroupFlood() { messaging_limits = {{"messages_per_sec", 1}, {"burst", 20}}; }
};

TEST_F(ServerGroupFlood, AFloodingMemberIsBoundedAndCountedOthersUnaffected) {
    constexpr int kFlood = 300;
    std::string burst;
    for (int i = 0; i < kFlood; ++i)
        burst += "\n" +
                 nlohmann::json{{"version", 2},
                                {"source_addr", "cgcs.server_grp"},
                                {"dest_addr", "cgcs.server_grp"},
                                {"data", {{"version", 2}, {"msg_type", "broadcast"}, {"data", std::to_string(i)}}}}
                     .dump() +
                 "\n";
    guest(1).send_raw(burst);
    // Every line is accounted for: relayed or dropped over the rate.
    nlohmann::json counters;
    ASSERT_TRUE(eventually([&] {
        counters = member_counters("g1", "vm-1");
        return counters.is_object() &&
               counters["broadcasts_in"].get<int>() + counters["dropped_in"].get<int>() == kFlood;
    })) << counters.dump();
    EXPECT_GT(counters["dropped_in"].get<int>(), 0);
    // vm-3's own traffic still flows, and vm-2 got exactly the relayed ones, in order.
    guest(3).broadcast("not starved");
    std::vector<std::string> got;
    for (;;) {
        auto line = guest(2).next_of("broadcast", kPatience);
        ASSERT_TRUE(line);
        if ((*line)["data"]["source_instance"] == "vm-3") {
            EXPECT_EQ((*line)["data"]["data"], "not starved");
            break;
        }
        got.push_back((*line)["data"]["data"]);
    }
    EXPECT_EQ(static_cast<int>(got.size()), counters["broadcasts_in"].get<int>());
    // The burst passes whole; later ones only as tokens come back, in order.
    ASSERT_GE(got.size(), 20u);
    for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(got[i], std::to_string(i));
    for (std::size_t i = 1; i < got.size(); ++i) EXPECT_LT(std::stoi(got[i - 1]), std::stoi(got[i]));
    auto list = ctl_json({"list"});
    EXPECT_EQ(list["vms"][0]["messaging_counters"]["dropped_in"], counters["dropped_in"]);
    EXPECT_EQ(list["vms"][2]["messaging_counters"]["dropped_in"], 0);
}

// A member that does not read loses messages (counted); the others get all.
class ServerGroupSlowReader : public ServerGroupFixture {
protected:
    ServerGroupSlowReader() {
        messaging_limits = {{"messages_per_sec", 100000}, {"burst", 100000}, {"queue_bytes", 65536}};
    }
};

TEST_F(ServerGroupSlowReader, AMemberThatDoesNotReadIsCutOffAndCounted) {
    // 1.2 MB for vm-2: far more than its socket buffers and queue hold.
    constexpr int kBatches = 20, kPerBatch = 20;
    const std::string payload(3000, 'p');
    int relayed = 0;
    for (int b = 0; b < kBatches; ++b) {
        for (int i = 0; i < kPerBatch; ++i) guest(1).broadcast(payload);
        // vm-3 keeps up; vm-2 reads nothing.
        for (int i = 0; i < kPerBatch; ++i) {
            auto line = guest(3).next_of("broadcast", kPatience);
            ASSERT_TRUE(line) << "vm-3 lost a broadcast while vm-2 was not reading";
            ++relayed;
        }
    }
    auto slow = member_counters("g1", "vm-2");
    EXPECT_GT(slow["dropped_out"].get<int>(), 0);
    EXPECT_EQ(member_counters("g1", "vm-3")["dropped_out"], 0);
    // What was not dropped is still on its way to vm-2: all of it, and no more.
    const int expected = relayed - slow["dropped_out"].get<int>();
    EXPECT_EQ(slow["broadcasts_out"].get<int>(), expected);
    for (int received = 0; received < expected; ++received)
        ASSERT_TRUE(guest(2).next_of("broadcast", kPatience)) << "vm-2 got " << received << " of " << expected;
    auto before = guest(2).sync(1, kPatience);  // its queue has room again
    ASSERT_TRUE(before);
    EXPECT_TRUE(of_type(*before, "broadcast").empty());
    EXPECT_EQ(ctl_json({"group", "show", "g1"})["counters"]["dropped"], slow["dropped_out"]);
    bool named = false;
    auto events = ctl_json({"events", "vm-2"});
    for (const auto& e : events["events"])
        named = named || e["detail"].get<std::string>().find("not reading") != std::string::npos;
    EXPECT_TRUE(named) << "no event says why vm-2 lost messages";
}

// More groups than one control reply can carry.
class ServerGroupMany : public ServerGroupFixture {
protected:
    ServerGroupMany() { extra_groups = 1000; }
};

TEST_F(ServerGroupMany, ListIsCutToOneReplyAndSaysSo) {
    auto r = ctl({"--json", "group", "list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto list = nlohmann::json::parse(r.out);
    EXPECT_EQ(list["truncated"], true);
    ASSERT_GT(list["groups"].size(), 2u);
    EXPECT_LT(list["groups"].size(), 1002u);
    EXPECT_EQ(list["groups"][0]["name"], "g1");
    EXPECT_NE(r.err.find("cut to fit"), std::string::npos);
    auto vms = ctl_json({"list"});
    ASSERT_EQ(vms["vms"].size(), 4u);
    EXPECT_EQ(vms["vms"][0]["server_groups"].size(), 17u);  // the first 16, then "..."
    EXPECT_EQ(vms["vms"][0]["server_groups"].back(), "...");
    auto one = ctl_json({"group", "show", "many-999"});
    EXPECT_EQ(one["members"].size(), 4u);
    EXPECT_FALSE(one.contains("truncated"));
    // Every group still relays: vm-2 gets vm-1's broadcast once, not 1001 times.
    guest(1).broadcast("once");
    auto before = guest(2).sync(1, kPatience);
    ASSERT_TRUE(before);
    EXPECT_EQ(of_type(*before, "broadcast").size(), 1u);
}

}  // namespace
}  // namespace hosttest
