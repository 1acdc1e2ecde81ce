// server-groupd facing hostile neighbours: a host sending garbage or floods,
// local clients flooding or sending garbage, users who are not allowed.
// Every case: the daemon says why in its log, stays up, and serves the others.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <regex>
#include <thread>

#include "child_as.h"
#include "gsdk/unix_socket.h"
#include "sg_fixture.h"

namespace gsdk::test {
namespace {

using nlohmann::json;

class HostileTest : public ServerGroupTest {};

// The member still gets a broadcast sent after the bad input: nothing broke.
void expect_still_serving(ServerGroupTest& t, Member& m, const std::string& marker) {
    std::size_t before = m.broadcasts.size();
    t.host_broadcast("instance-00000001", marker);
    ASSERT_TRUE(m.pump_until([&] { return m.broadcasts.size() > before; })) << marker;
    EXPECT_EQ(marker, m.broadcasts.back().payload);
    EXPECT_TRUE(t.daemon.running());
}

TEST_F(HostileTest, MalformedEnvelopesAreDroppedWithTheirCause) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"this is not json", "not valid JSON"},
        {"[1,2,3]", "not an object"},
        {R"({"version":1,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":{}})", "is not 2"},
        {R"({"version":"2","source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":{}})", "is not 2"},
        {R"({"version":2,"dest_addr":"cgcs.server_grp","data":{}})", "no source_addr"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","data":{}})", "no dest_addr"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp"})", "no data"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":"{\"msg_type\":\"broadcast\"}"})",
         "data is not a JSON object"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"a-very-long-address-indeed","data":{}})",
         "dest_addr is not an address"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":{"msg_type":"broadcast","data":"no source"}})",
         "no source_instance"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":{"msg_type":"status_response","seq":"1","data":{}}})",
         "no integer seq"},
        {R"({"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":{"msg_type":"teleport"}})",
         "unknown msg_type"},
        {std::string("{\"version\":2,\"bad utf-8\":\"\xff\"}"), "not valid JSON"},
    };
    for (const auto& [line, cause] : bad) {
        host.send_raw(line + "\n");
        EXPECT_TRUE(wait_for_text(daemon_log(), cause, 5s)) << line;
    }
    expect_still_serving(*this, *m, "after the garbage");
    EXPECT_TRUE(m->notifications.empty());
    EXPECT_EQ(1u, m->broadcasts.size());
}

TEST_F(HostileTest, UnknownAddressesAreLoggedNotDeliveredAndTheLinesHeldBack) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    for (int i = 0; i < 200; ++i)
        host.send_raw(R"({"version":2,"source_addr":"x","dest_addr":"cgcs.nowhere","data":{"n":)" + std::to_string(i) +
                      "}}\n");
    expect_still_serving(*this, *m, "after the unknown address");
    EXPECT_GE(log_count("no local service at address cgcs.nowhere"), 1);
    EXPECT_LT(log_count("no local service at address cgcs.nowhere"), 200) << "repeated lines are held back";
}

TEST_F(HostileTest, OversizedLinesAreDroppedWhole) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    std::string huge(40 * 1024, 'a');
    host_broadcast("instance-00000001", huge);    // a 40 KiB line: over the 32 KiB limit
    host.send_raw(std::string(100 * 1024, 'b'));  // and a line with no end yet
    host.send_raw("\n");
    expect_still_serving(*this, *m, "after the oversized lines");
    ASSERT_EQ(1u, m->broadcasts.size()) << "nothing of the oversized lines was delivered";
    EXPECT_TRUE(wait_for_text(daemon_log(), "oversized line", 5s));
}

TEST_F(HostileTest, HostFloodCostsOnlyTheMemberThatStoppedReading) {
    start_daemon();
    connect_host();
    auto reader = joined_member();
    auto stalled = joined_member();  // never processed from here on
    constexpr int kBatches = 10, kPerBatch = 200;
    for (int b = 0; b < kBatches; ++b) {
        std::string burst;
        for (int i = 0; i < kPerBatch; ++i) {
            json data = {{"version", "version"},
                         {"msg_type", "broadcast"},
                         {"source_instance", "instance-00000002"},
                         {"data", "flood " + std::to_string(b * kPerBatch + i)}};
            burst += json{{"version", 2},
                          {"source_addr", "cgcs.server_grp"},
                          {"dest_addr", "cgcs.server_grp"},
                          {"data", data}}
                         .dump() +
                     "\n";
        }
        host.send_raw(burst);
        std::size_t want = static_cast<std::size_t>((b + 1) * kPerBatch);
        ASSERT_TRUE(reader->pump_until([&] { return reader->broadcasts.size() >= want; }, 30s)) << b;
    }
    for (int i = 0; i < kBatches * kPerBatch; ++i)
        ASSERT_EQ("flood " + std::to_string(i), reader->broadcasts[i].payload) << "the reader lost nothing";
    EXPECT_EQ(0u, reader->lost);

    // The stalled member reads again: it gets what was kept, then hears how
    // much was dropped with the next message; nothing is unaccounted for.
    stalled->pump_for(500ms);
    host_broadcast("instance-00000002", "last");
    ASSERT_TRUE(stalled->pump_until(
        [&] { return !stalled->broadcasts.empty() && stalled->broadcasts.back().payload == "last"; }, 30s));
    EXPECT_GT(stalled->lost, 0u) << "its queue is bounded";
    EXPECT_EQ(static_cast<uint64_t>(kBatches * kPerBatch + 1), stalled->broadcasts.size() + stalled->lost);
    EXPECT_EQ(static_cast<int64_t>(stalled->lost), sg_client_messages_lost(stalled->client()));
    EXPECT_TRUE(wait_for_text(daemon_log(), "is not reading: a message dropped", 5s));
}

TEST_F(HostileTest, LocalFloodIsRateLimitedCountedAndOthersGoOn) {
    extra_config = "BROADCAST_RATE=5\nBROADCAST_BURST=10\n";
    start_daemon();
    connect_host();
    constexpr int kFlood = 2000;
    Subprocess flooder;
    flooder.start({SG_PROBE, "--socket", client_socket(), "--flood", std::to_string(kFlood)}, dir / "flood.log");
    ASSERT_TRUE(wait_for_text(dir / "flood.log", "flood_done", 60s)) << read_file(dir / "flood.log");
    auto other = joined_member();
    std::string mine = "the other member's broadcast";
    ASSERT_EQ(0, sg_client_broadcast(other->client(), mine.data(), mine.size()));
    flooder.stop();
    ASSERT_TRUE(wait_for_text(daemon_log(), "(sg_probe) left:", 10s));

    // Every flood message was either sent to the host or refused, and said so.
    std::smatch match;
    std::string log = read_file(daemon_log());
    ASSERT_TRUE(
        std::regex_search(log, match, std::regex(R"(\(sg_probe\) left: (\d+) broadcasts sent, (\d+) refused)")));
    long sent = std::stol(match[1]), refused = std::stol(match[2]);
    EXPECT_EQ(kFlood, sent + refused);
    EXPECT_GT(refused, 0);
    EXPECT_GE(sent, 10) << "the burst went out";

    long flood_lines = 0;
    bool others_arrived = false;
    while (auto line = host_receive(1s)) {
        std::string payload = (*line)["data"].value("data", "");
        if (payload.rfind("flood-", 0) == 0) ++flood_lines;
        if (payload == mine) others_arrived = true;
    }
    EXPECT_TRUE(others_arrived);
    EXPECT_EQ(sent, flood_lines);
}

TEST_F(HostileTest, UnprivilegedUserIsRefusedWithTheReason) {
    start_daemon();
    connect_host();
    std::string socket = client_socket();
    auto result = run_in_child(
        [socket] {
            Member m(socket);
            m.pump_until([&] { return !m.links.empty(); }, 10s);
            std::string p = "from nobody";
            json out = {{"links", m.links},
                        {"reason", m.link_reason},
                        {"broadcast", sg_client_broadcast(m.client(), p.data(), p.size())}};
            return out.dump();
        },
        kNobody);
    ASSERT_TRUE(result);
    json out = json::parse(*result);
    EXPECT_EQ(json::array({false}), out["links"]);
    EXPECT_NE(std::string::npos, out["reason"].get<std::string>().find("uid 65534")) << out["reason"];
    EXPECT_NE(std::string::npos, out["reason"].get<std::string>().find("not allowed")) << out["reason"];
    EXPECT_EQ(-EACCES, out["broadcast"]);
    EXPECT_FALSE(host_receive_group("broadcast", 300ms));
}

// A user who can reach the socket (its group) but is not among the allowed is
// turned away by the daemon's own credential check, with the reason.
TEST_F(HostileTest, APeerThatReachesTheSocketButIsNotAllowedIsRefusedByTheDaemon) {
    extra_config = "SOCKET_GROUP=4242\nALLOWED_GROUPS=4343\n";
    start_daemon();
    connect_host();
    std::string socket = client_socket();
    auto result = run_in_child_with_groups(
        [socket] {
            Member m(socket);
            m.pump_until([&] { return !m.links.empty(); }, 10s);
            return json{{"links", m.links}, {"reason", m.link_reason}}.dump();
        },
        4444, {4242});
    ASSERT_TRUE(result);
    json out = json::parse(*result);
    EXPECT_EQ(json::array({false}), out["links"]);
    EXPECT_NE(std::string::npos, out["reason"].get<std::string>().find("not allowed")) << out["reason"];
    EXPECT_TRUE(wait_for_text(daemon_log(), "client refused: not allowed: uid 4444", 5s));
}

TEST_F(HostileTest, AllowedUsersAndGroupMembersGetInOthersDoNot) {
    extra_config = "ALLOWED_GROUPS=4242\nALLOWED_UIDS=4343\n";
    start_daemon();
    connect_host();
    std::string socket = client_socket();
    auto join = [socket] {
        Member m(socket);
        m.pump_until([&] { return !m.links.empty(); }, 10s);
        return std::string(m.connected() ? "in" : "out: " + m.link_reason);
    };
    // By uid, by primary group, by a supplementary group (read from procfs).
    EXPECT_EQ("in", run_in_child(join, uid_t(4343)).value_or("died"));
    EXPECT_EQ("in", run_in_child(join, uid_t(4242)).value_or("died"));
    EXPECT_EQ("in", run_in_child_with_groups(join, 4444, {4242}).value_or("died"));
    auto outsider = run_in_child_with_groups(join, 4445, {4446});
    ASSERT_TRUE(outsider);
    EXPECT_NE(std::string::npos, outsider->find("not allowed")) << *outsider;
}

TEST_F(HostileTest, QuotaPerUserIsKeptAndTheOthersStillWork) {
    extra_config = "MAX_CLIENTS_PER_UID=3\n";
    start_daemon();
    connect_host();
    std::vector<std::unique_ptr<Member>> members;
    for (int i = 0; i < 3; ++i) members.push_back(joined_member());
    Member fourth(client_socket());
    ASSERT_TRUE(fourth.pump_until([&] { return !fourth.links.empty(); }));
    EXPECT_FALSE(fourth.connected());
    EXPECT_NE(std::string::npos, fourth.link_reason.find("MAX_CLIENTS_PER_UID")) << fourth.link_reason;
    for (auto& m : members) expect_still_serving(*this, *m, "still served");
    // A place freed is a place taken: the refused one gets in by itself.
    members.pop_back();
    EXPECT_TRUE(fourth.wait_connected(15s)) << fourth.link_reason;
}

TEST_F(HostileTest, GarbageFromALocalClientIsDropped) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    int fd = seqpacket_connect(client_socket());
    ASSERT_GE(fd, 0);
    for (int i = 0; i < 100; ++i) {
        std::string junk(static_cast<std::size_t>(1 + i * 7), static_cast<char>(0xff - i));
        seqpacket_send(fd, junk.data(), junk.size());
    }
    std::string big(70 * 1024, 'x');
    ::send(fd, big.data(), big.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    expect_still_serving(*this, *m, "after local garbage");
    EXPECT_TRUE(wait_for_text(daemon_log(), "sent a malformed", 5s));
    ::close(fd);
}

}  // namespace
}  // namespace gsdk::test
