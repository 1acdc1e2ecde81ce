// The server-group relay's pieces without sockets: the group table, the
// server-group layer's decoding, envelope decoding, member states, and the
// configuration keys for messaging and server groups.
#include <gtest/gtest.h>

#include "host_config.h"
#include "messaging_port.h"
#include "server_group/group_messages.h"
#include "server_group/group_table.h"
#include "server_group/member_state.h"
#include "token_bucket.h"

namespace vmhost {
namespace {

using nlohmann::json;

TEST(GroupTable, MembershipChangesAreCheckedAndPeersAreUnique) {
    sg::GroupTable t({"a", "b", "c", "d"});
    EXPECT_EQ(t.create("g1", {"a", "b", "c"}), "");
    EXPECT_EQ(t.create("g2", {"c", "d"}), "");
    EXPECT_NE(t.create("g1", {}), "");
    EXPECT_NE(t.create("g3", {"a", "x"}).find("unknown VM \"x\""), std::string::npos);
    EXPECT_NE(t.create("g3", {"a", "a"}).find("twice"), std::string::npos);
    EXPECT_NE(t.create("bad name", {}), "");
    EXPECT_EQ(t.find("g3"), nullptr);  // nothing half-made
    EXPECT_EQ(t.members_with("a", false), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(t.members_with("c", false), (std::vector<std::string>{"a", "b", "d"}));
    EXPECT_EQ(t.members_with("c", true), (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_TRUE(t.members_with("x", true).empty());
    EXPECT_EQ(t.shared_group("c", "d")->name, "g2");
    EXPECT_EQ(t.shared_group("a", "d"), nullptr);
    EXPECT_NE(t.add_members("g2", {"d"}), "");
    EXPECT_EQ(t.add_members("g2", {"a"}), "");
    EXPECT_EQ(t.members_with("d", false), (std::vector<std::string>{"c", "a"}));
    EXPECT_NE(t.remove_members("g2", {"b"}), "");
    EXPECT_EQ(t.remove_members("g2", {"a", "c"}), "");
    EXPECT_EQ(t.find("g2")->members, (std::vector<std::string>{"d"}));
    EXPECT_EQ(t.group_names_of("c"), (std::vector<std::string>{"g1"}));
    EXPECT_EQ(t.remove_group("g1"), "");
    EXPECT_NE(t.remove_group("g1"), "");
    EXPECT_TRUE(t.members_with("a", false).empty());
}

TEST(GroupTable, GroupCountIsBounded) {
    sg::GroupTable t({"a"});
    for (std::size_t i = 0; i < sg::kMaxGroups; ++i) ASSERT_EQ(t.create("g" + std::to_string(i), {}), "");
    EXPECT_NE(t.create("one-more", {}).find("too many"), std::string::npos);
}

TEST(GroupMessages, GuestRequestsAreDecodedAndBounded) {
    auto b = sg::decode({{"version", 2}, {"msg_type", "broadcast"}, {"data", std::string(3050, 'x')}});
    ASSERT_TRUE(std::holds_alternative<sg::Broadcast>(b));
    EXPECT_EQ(std::get<sg::Broadcast>(b).payload.size(), 3050u);
    // The inner version is never a reason to refuse (the real host breaks it itself).
    EXPECT_TRUE(std::holds_alternative<sg::Broadcast>(
        sg::decode({{"version", "version"}, {"msg_type", "broadcast"}, {"data", ""}})));
    auto big = sg::decode({{"msg_type", "broadcast"}, {"data", std::string(3051, 'x')}});
    ASSERT_TRUE(std::holds_alternative<sg::Refused>(big));
    EXPECT_EQ(std::get<sg::Refused>(big).msg_type, "broadcast");
    auto q = sg::decode({{"msg_type", "status_query"}, {"seq", sg::kMaxSeq}});
    ASSERT_TRUE(std::holds_alternative<sg::StatusQuery>(q));
    EXPECT_EQ(std::get<sg::StatusQuery>(q).seq, sg::kMaxSeq);
    for (const json& seq : {json(sg::kMaxSeq + 1), json(-1), json(1.5), json("1"), json(nullptr),
                            json(uint64_t{18446744073709551615ull})})
        EXPECT_TRUE(std::holds_alternative<sg::Refused>(sg::decode({{"msg_type", "status_query"}, {"seq", seq}})))
            << seq.dump();
    auto unknown = sg::decode({{"msg_type", std::string(1000, 'm')}});
    ASSERT_TRUE(std::holds_alternative<sg::Refused>(unknown));
    EXPECT_LE(std::get<sg::Refused>(unknown).msg_type.size(), 64u);  // a guest's string, quoted bounded
    EXPECT_TRUE(std::holds_alternative<sg::GuestNack>(sg::decode({{"msg_type", "nack"}, {"log_msg", 5}})));
    EXPECT_TRUE(std::holds_alternative<sg::Refused>(sg::decode({{"msg_type", 7}})));
}

TEST(GroupMessages, HostMessagesCarryTheProtocolsKeys) {
    EXPECT_EQ(sg::broadcast("vm-1", "hi"),
              (json{{"version", 2}, {"msg_type", "broadcast"}, {"source_instance", "vm-1"}, {"data", "hi"}}));
    EXPECT_EQ(sg::status_response_done(4), (json{{"version", 2}, {"msg_type", "status_response_done"}, {"seq", 4}}));
    EXPECT_EQ(sg::status_response(4, {{"k", 1}})["data"], (json{{"k", 1}}));
    EXPECT_FALSE(sg::nack("why", "").contains("orig_msg_type"));
    EXPECT_EQ(sg::nack("line\nbreak", "broadcast")["log_msg"], "line break");
    EXPECT_EQ(sg::nack("why", "broadcast")["orig_msg_type"], "broadcast");
}

TEST(Envelope, GuestLinesAreCheckedAndHostLinesFramedLikeTheRealHost) {
    Envelope e;
    std::string reason, type;
    EXPECT_TRUE(
        decode_envelope(json::parse(R"({"version":2,"dest_addr":"cgcs.server_grp","data":{}})"), &e, &reason, &type));
    EXPECT_EQ(e.source_addr, "");
    EXPECT_FALSE(decode_envelope(
        json::parse(R"({"version":2,"dest_addr":"cgcs.server_grp","source_addr":"","data":{"msg_type":"x"}})"), &e,
        &reason, &type));
    EXPECT_EQ(type, "x");
    EXPECT_FALSE(decode_envelope(json::parse(R"({"version":"2","dest_addr":"a","data":{}})"), &e, &reason, &type));
    EXPECT_FALSE(
        decode_envelope(json::parse(R"({"version":2,"dest_addr":"12345678901234567","data":{}})"), &e, &reason, &type));
    std::string line = encode_envelope(Envelope{"cgcs.server_grp", "cgcs.server_grp", {{"data", "\xC3\xA9"}}});
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    EXPECT_NE(line.find("\xC3\xA9"), std::string::npos) << "UTF-8 kept as is";
}

TEST(MemberState, HostActionsMoveTheStatesAsNovaNamesThem) {
    sg::MemberState s;
    EXPECT_EQ(sg::apply_change(&s, {VmChange::Kind::ActionBegin, "vm", "live-migrate", "", -1}), "live_migrate_begin");
    EXPECT_EQ(s.task_state, "migrating");
    EXPECT_EQ(sg::apply_change(&s, {VmChange::Kind::ActionEnd, "vm", "live-migrate", "", -1}), "live_migrate_end");
    EXPECT_EQ(s.task_state, "");
    EXPECT_EQ(s.vm_state, "active");
    sg::apply_change(&s, {VmChange::Kind::ActionBegin, "vm", "suspend", "", -1});
    EXPECT_EQ(sg::apply_change(&s, {VmChange::Kind::ActionFailed, "vm", "suspend", "qmp", -1}), "suspend_failed");
    EXPECT_EQ(s.vm_state, "active");
    EXPECT_EQ(s.task_state, "");
    sg::apply_change(&s, {VmChange::Kind::ActionEnd, "vm", "stop", "", -1});
    EXPECT_EQ(s.vm_state, "stopped");
    EXPECT_EQ(s.power_state, "shutdown");
    // A guest that starts a heartbeat session is running again.
    EXPECT_EQ(sg::apply_change(&s, {VmChange::Kind::HeartbeatUp, "vm", "", "", -1}), "heartbeat_up");
    EXPECT_EQ(s.vm_state, "active");
    EXPECT_EQ(s.power_state, "running");
    EXPECT_EQ(sg::apply_change(&s, {VmChange::Kind::Scaled, "vm", "down", "", 3}), "scale_down");

    sg::MemberState before;
    sg::MemberState after;
    sg::apply_change(&after, {VmChange::Kind::ActionEnd, "vm", "pause", "", -1});
    sg::MemberFacts f{"vm", "host-a", {"g1"}, "active", "connected"};
    json j = sg::change_object(f, before, after, "pause_end", "");
    EXPECT_EQ(j["state"], "paused");
    EXPECT_EQ(j["old_state"], "active");
    EXPECT_TRUE(j["old_task_state"].is_null());
    EXPECT_EQ(j["host"], "host-a");
    EXPECT_EQ(j["server_groups"], (json{"g1"}));
    EXPECT_FALSE(j.contains("reason"));
    json scaled = sg::change_object(f, before, before, "scale_up", "", 4);
    EXPECT_EQ(scaled["online_cpus"], 4);
}

TEST(TokenBucket, BurstThenRate) {
    TokenBucket bucket(2, 3);
    auto t = gsdk::Clock::now();
    EXPECT_TRUE(bucket.take(t));
    EXPECT_TRUE(bucket.take(t));
    EXPECT_TRUE(bucket.take(t));
    EXPECT_FALSE(bucket.take(t));
    EXPECT_TRUE(bucket.take(t + std::chrono::milliseconds(500)));  // one token back after 1/rate
    EXPECT_FALSE(bucket.take(t + std::chrono::milliseconds(500)));
    EXPECT_TRUE(bucket.take(t + std::chrono::seconds(100)));  // never more than the burst
    EXPECT_TRUE(bucket.take(t + std::chrono::seconds(100)));
    EXPECT_TRUE(bucket.take(t + std::chrono::seconds(100)));
    EXPECT_FALSE(bucket.take(t + std::chrono::seconds(100)));
}

std::string config_error(const std::string& text) {
    std::string error;
    EXPECT_FALSE(parse_host_config(text, "f.json", &error)) << text;
    return error;
}

TEST(ServerGroupConfig, MessagingAndGroupsAreReadStrictly) {
    const std::string vm1 = R"({"name":"vm1","heartbeat":"unix:/h1","messaging":"unix:/m1",
                               "executor":{"type":"qmp","socket":"/q1"}})";
    const std::string vm2 = R"({"name":"vm2","heartbeat":"unix:/h2","executor":{"type":"qmp","socket":"/q2"}})";
    std::string error;
    auto c = parse_host_config(R"({"vms":[)" + vm1 + "," + vm2 +
                                   R"(],"server_groups":[{"name":"g","members":["vm1","vm2"]}],
                                   "messaging_limits":{"messages_per_sec":5,"burst":7,"queue_bytes":65536}})",
                               "f.json", &error);
    ASSERT_TRUE(c) << error;
    ASSERT_TRUE(c->vms[0].messaging);
    EXPECT_EQ(c->vms[0].messaging->path, "/m1");
    EXPECT_FALSE(c->vms[1].messaging);
    ASSERT_EQ(c->server_groups.size(), 1u);
    EXPECT_EQ(c->server_groups[0].members, (std::vector<std::string>{"vm1", "vm2"}));
    EXPECT_EQ(c->messaging_limits.messages_per_sec, 5u);
    EXPECT_EQ(c->messaging_limits.burst, 7u);

    EXPECT_EQ(config_error(R"({"vms":[)" + vm1 + R"(],"server_groups":[{"name":"g","members":["vm3"]}]})"),
              "f.json: server_groups[0].members[0]: \"vm3\" is not a VM of this file");
    EXPECT_EQ(config_error(R"({"vms":[)" + vm1 + R"(],"server_groups":[{"name":"g","members":["vm1","vm1"]}]})"),
              "f.json: server_groups[0].members[1]: \"vm1\" is listed twice");
    EXPECT_EQ(config_error(R"({"vms":[)" + vm1 + R"(],"server_groups":[{"name":"g","members":[]},)" +
                           R"({"name":"g","members":[]}]})"),
              "f.json: server_groups[1].name: \"g\" is used twice");
    EXPECT_EQ(config_error(R"({"vms":[)" + vm1 + R"(],"server_groups":[{"name":"g","members":[],"x":1}]})"),
              "f.json: server_groups[0].x: unknown key");
    EXPECT_NE(config_error(R"({"vms":[{"name":"vm1","heartbeat":"unix:/h1","messaging":"/m1",
                                       "executor":{"type":"qmp","socket":"/q1"}}]})")
                  .find("vms[0].messaging: \"/m1\" must be unix:PATH"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"vms":[{"name":"vm1","heartbeat":"unix:/h1","messaging":"unix:/h1",
                                       "executor":{"type":"qmp","socket":"/q1"}}]})")
                  .find("used twice"),
              std::string::npos);
    json many = json::array();
    for (std::size_t i = 0; i <= kMaxServerGroups; ++i)
        many.push_back({{"name", "g" + std::to_string(i)}, {"members", json::array()}});
    EXPECT_EQ(config_error(R"({"vms":[)" + vm1 + R"(],"server_groups":)" + many.dump() + "}"),
              "f.json: server_groups: more than 1024 groups");
    EXPECT_EQ(config_error(R"({"vms":[)" + vm1 + R"(],"messaging_limits":{"burst":0}})"),
              "f.json: messaging_limits.burst: must be between 1 and 100000");
}

}  // namespace
}  // namespace vmhost
