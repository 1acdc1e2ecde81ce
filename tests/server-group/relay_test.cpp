// server-groupd and libserver_group end to end: the test is the host on the
// messaging channel; members are libserver_group clients in this process or
// in member processes (sg_probe).
#include <cerrno>
#include <thread>

#include "sg_fixture.h"

namespace gsdk::test {
namespace {

using nlohmann::json;

std::string ascii_payload(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + i % 26);
    return s;
}

// Payloads the rule allows, each chosen for what could break on the way.
const std::vector<std::string>& allowed_payloads() {
    static const std::vector<std::string> payloads = {
        "x",
        "multi-byte: \xc3\xbc\xc3\xb1\xc3\xaf \xe2\x9c\x93 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
        "quotes \"double\" and 'single'",
        "backslashes \\ \\\\ \\n \\u0000 \\\"",
        "a/b//c <\\/script>",
        "tab\tand controls \x01\x02\x1f\x7f",
        "{\"looks\":\"like json\",\"n\":[1,2,3]}",
        "   leading and trailing blanks   ",
        std::string(3050, '\\'),    // every byte doubles when escaped
        std::string(3050, '\x01'),  // every byte becomes \u0001: the longest legal line
    };
    return payloads;
}

class RelayTest : public ServerGroupTest {};

TEST_F(RelayTest, BroadcastOutArrivesByteExactAtTheLimits) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    for (std::size_t size : {std::size_t(1), std::size_t(3049), std::size_t(3050)}) {
        std::string payload = ascii_payload(size);
        ASSERT_EQ(0, sg_client_broadcast(m->client(), payload.data(), payload.size())) << size;
        auto line = host_receive_group("broadcast");
        ASSERT_TRUE(line) << size;
        EXPECT_EQ(2, (*line)["version"]);
        EXPECT_EQ("cgcs.server_grp", (*line)["dest_addr"]);
        EXPECT_EQ("cgcs.server_grp", (*line)["source_addr"]);
        EXPECT_EQ((json{{"version", 2}, {"msg_type", "broadcast"}, {"data", payload}}), (*line)["data"]);
    }
}

TEST_F(RelayTest, PayloadOverTheLimitIsRefusedNotCut) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    std::string too_long = ascii_payload(3051);
    EXPECT_EQ(-EMSGSIZE, sg_client_broadcast(m->client(), too_long.data(), too_long.size()));
    EXPECT_EQ(-EMSGSIZE, sg_payload_check(too_long.data(), too_long.size()));
    std::string marker = "after the refused one";
    ASSERT_EQ(0, sg_client_broadcast(m->client(), marker.data(), marker.size()));
    auto line = host_receive_group("broadcast");
    ASSERT_TRUE(line);
    EXPECT_EQ(marker, (*line)["data"]["data"]) << "nothing of the refused payload may reach the host";
}

TEST_F(RelayTest, PayloadRuleRefusesWhatTheFramingWouldChange) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    const std::vector<std::string> refused = {
        std::string("nul\0inside", 10), "line\nfeed",   "carriage\rreturn", "\xff\xfe not utf-8", "\xc0\xaf overlong",
        "\xed\xa0\x80 surrogate",       "cut \xe2\x9c",
    };
    for (const auto& p : refused) {
        EXPECT_EQ(-EINVAL, sg_payload_check(p.data(), p.size())) << to_hex(p);
        EXPECT_EQ(-EINVAL, sg_client_broadcast(m->client(), p.data(), p.size())) << to_hex(p);
    }
    std::string marker = "marker";
    ASSERT_EQ(0, sg_client_broadcast(m->client(), marker.data(), marker.size()));
    auto line = host_receive_group("broadcast");
    ASSERT_TRUE(line);
    EXPECT_EQ(marker, (*line)["data"]["data"]);
}

TEST_F(RelayTest, EveryAllowedPayloadSurvivesBothWays) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    for (const auto& payload : allowed_payloads()) {
        ASSERT_EQ(0, sg_payload_check(payload.data(), payload.size())) << to_hex(payload);
        ASSERT_EQ(0, sg_client_broadcast(m->client(), payload.data(), payload.size())) << to_hex(payload);
        auto line = host_receive_group("broadcast");
        ASSERT_TRUE(line) << to_hex(payload);
        ASSERT_EQ(payload, (*line)["data"]["data"].get<std::string>()) << to_hex(payload);
        // And back in, as another member's broadcast through the host.
        std::size_t before = m->broadcasts.size();
        host_broadcast("instance-00000002", (*line)["data"]["data"].get<std::string>());
        ASSERT_TRUE(m->pump_until([&] { return m->broadcasts.size() > before; })) << to_hex(payload);
        EXPECT_EQ(payload, m->broadcasts.back().payload) << to_hex(payload);
        EXPECT_EQ("instance-00000002", m->broadcasts.back().source);
    }
}

TEST_F(RelayTest, BroadcastInArrivesByteExactAtTheLimits) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    for (std::size_t size : {std::size_t(1), std::size_t(3049), std::size_t(3050)}) {
        std::string payload = ascii_payload(size);
        std::size_t before = m->broadcasts.size();
        host_broadcast("instance-0000000a", payload);
        ASSERT_TRUE(m->pump_until([&] { return m->broadcasts.size() > before; })) << size;
        EXPECT_EQ(payload, m->broadcasts.back().payload);
        EXPECT_EQ("instance-0000000a", m->broadcasts.back().source);
    }
}

TEST_F(RelayTest, NotificationsArriveAsTheHostsJsonText) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    json data = {{"instance_id", "5a1d7e0c-0d4b-4b8e-9d2a-2a1b7f1c9e11"},
                 {"instance_name", "instance-00000003"},
                 {"state", "stopped"},
                 {"old_state", "active"},
                 {"task_states", {nullptr, "powering-off"}},
                 {"power_state", 4},
                 {"host", "compute-1"}};
    host_notification(data);
    ASSERT_TRUE(m->pump_until([&] { return !m->notifications.empty(); }));
    EXPECT_EQ(data, json::parse(m->notifications[0]));
}

TEST_F(RelayTest, TwoMemberProcessesBothReceiveEverything) {
    start_daemon();
    connect_host();
    Subprocess a, b;
    a.start({SG_PROBE, "--socket", client_socket()}, dir / "a.log");
    b.start({SG_PROBE, "--socket", client_socket()}, dir / "b.log");
    ASSERT_TRUE(wait_for_text(dir / "a.log", "\"up\":true", 10s)) << read_file(dir / "a.log");
    ASSERT_TRUE(wait_for_text(dir / "b.log", "\"up\":true", 10s)) << read_file(dir / "b.log");
    std::string payload = "to both \xe2\x9c\x93";
    host_broadcast("instance-00000007", payload);
    host_notification({{"state", "active"}, {"instance_name", "instance-00000007"}});
    for (const char* log : {"a.log", "b.log"}) {
        EXPECT_TRUE(wait_for_text(dir / log, "\"hex\":\"" + to_hex(payload) + "\"", 10s)) << read_file(dir / log);
        EXPECT_TRUE(wait_for_text(dir / log, "instance-00000007", 10s)) << read_file(dir / log);
        EXPECT_TRUE(wait_for_text(dir / log, "\"event\":\"notification\"", 10s)) << read_file(dir / log);
    }
    a.stop();
    b.stop();
}

// The host's status answer for seq: one status_response per member, then done.
void answer_status(ServerGroupTest& t, json seq, const std::vector<json>& members) {
    for (const auto& m : members)
        t.host_send_group({{"version", 2}, {"msg_type", "status_response"}, {"seq", seq}, {"data", m}});
    t.host_send_group({{"version", 2}, {"msg_type", "status_response_done"}, {"seq", seq}});
}

std::vector<json> three_members();

// A member asks; the host starts answering (one member) and stops there.
void begin_status_answer(ServerGroupTest& t, Member& m) {
    ASSERT_GT(sg_client_request_status(m.client(), 0), 0);
    auto query = t.host_receive_group("status_query");
    ASSERT_TRUE(query);
    t.host_send_group({{"version", 2},
                       {"msg_type", "status_response"},
                       {"seq", (*query)["data"]["seq"]},
                       {"data", three_members()[0]}});
}

std::vector<json> three_members() {
    return {{{"instance_name", "instance-00000001"}, {"state", "active"}},
            {{"instance_name", "instance-00000002"}, {"state", "paused"}},
            {{"instance_name", "instance-00000003"}, {"state", "active"}, {"host", "compute-2"}}};
}

TEST_F(RelayTest, StatusAnswerComesOnceAndComplete) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    int id = sg_client_request_status(m->client(), 0);
    ASSERT_GT(id, 0);
    auto query = host_receive_group("status_query");
    ASSERT_TRUE(query);
    EXPECT_EQ((json{{"version", 2}, {"msg_type", "status_query"}, {"seq", (*query)["data"]["seq"]}}), (*query)["data"]);
    json seq = (*query)["data"]["seq"];
    // A stale answer first: it must not be counted.
    host_send_group(
        {{"version", 2}, {"msg_type", "status_response"}, {"seq", seq.get<int>() + 1000}, {"data", {{"stale", true}}}});
    answer_status(*this, seq, three_members());
    ASSERT_TRUE(m->pump_until([&] { return !m->statuses.empty(); }));
    m->pump_for(200ms);
    ASSERT_EQ(1u, m->statuses.size()) << "delivered once";
    const auto& end = m->statuses[0];
    EXPECT_EQ(static_cast<uint32_t>(id), end.query_id);
    EXPECT_EQ(0, end.error) << end.reason;
    ASSERT_EQ(3u, end.members.size());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(three_members()[i], json::parse(end.members[i]));
    EXPECT_EQ(json(three_members()), json::parse(end.array));
}

TEST_F(RelayTest, ConcurrentQueriesShareOneHostRoundAndBothComplete) {
    start_daemon();
    connect_host();
    auto a = joined_member();
    auto b = joined_member();
    ASSERT_GT(sg_client_request_status(a->client(), 0), 0);
    auto query = host_receive_group("status_query");
    ASSERT_TRUE(query);
    json seq = (*query)["data"]["seq"];
    auto members = three_members();
    host_send_group({{"version", 2}, {"msg_type", "status_response"}, {"seq", seq}, {"data", members[0]}});
    // b asks while the answer is on its way: it joins the round (given what
    // came so far) instead of starting another.
    ASSERT_GT(sg_client_request_status(b->client(), 0), 0);
    // The rest only once the daemon has b's query: it comes on another
    // socket, which the daemon may read after the host's next lines.
    ASSERT_TRUE(wait_for_text(daemon_log(), "status query joins round", 10s)) << read_file(daemon_log());
    for (std::size_t i = 1; i < members.size(); ++i)
        host_send_group({{"version", 2}, {"msg_type", "status_response"}, {"seq", seq}, {"data", members[i]}});
    host_send_group({{"version", 2}, {"msg_type", "status_response_done"}, {"seq", seq}});
    ASSERT_TRUE(a->pump_until([&] { return !a->statuses.empty(); }));
    ASSERT_TRUE(b->pump_until([&] { return !b->statuses.empty(); }));
    for (Member* m : {a.get(), b.get()}) {
        EXPECT_EQ(0, m->statuses[0].error) << m->statuses[0].reason;
        EXPECT_EQ(json(members), json::parse(m->statuses[0].array));
    }
    EXPECT_FALSE(host_receive_group("status_query", 300ms)) << "one host round serves both";
}

TEST_F(RelayTest, HostGoneMidQueryIsAClearError) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    ASSERT_NO_FATAL_FAILURE(begin_status_answer(*this, *m));
    host.close();
    ASSERT_TRUE(m->pump_until([&] { return !m->statuses.empty(); }));
    EXPECT_EQ(-EHOSTDOWN, m->statuses[0].error);
    EXPECT_NE(std::string::npos, m->statuses[0].reason.find("host went away")) << m->statuses[0].reason;
    EXPECT_TRUE(m->statuses[0].members.empty());
    // And with no host, a query fails at once.
    ASSERT_TRUE(m->pump_until([&] { return sg_client_request_status(m->client(), 0) == -EHOSTDOWN; }));
}

TEST_F(RelayTest, HostThatNeverFinishesTimesOut) {
    extra_config = "STATUS_TIMEOUT_MS=300\n";
    start_daemon();
    connect_host();
    auto m = joined_member();
    ASSERT_NO_FATAL_FAILURE(begin_status_answer(*this, *m));
    ASSERT_TRUE(m->pump_until([&] { return !m->statuses.empty(); }));
    EXPECT_EQ(-ETIMEDOUT, m->statuses[0].error);
    EXPECT_NE(std::string::npos, m->statuses[0].reason.find("did not finish")) << m->statuses[0].reason;
}

TEST_F(RelayTest, LibraryDeadlineCatchesASilentDaemonAnswer) {
    extra_config = "STATUS_TIMEOUT_MS=60000\n";
    start_daemon();
    connect_host();
    auto m = joined_member();
    ASSERT_GT(sg_client_request_status(m->client(), 200), 0);
    ASSERT_TRUE(m->pump_until([&] { return !m->statuses.empty(); }));
    EXPECT_EQ(-ETIMEDOUT, m->statuses[0].error);
}

TEST_F(RelayTest, NewerQueryCancelsTheOlder) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    int first = sg_client_request_status(m->client(), 0);
    int second = sg_client_request_status(m->client(), 0);
    ASSERT_GT(first, 0);
    ASSERT_GT(second, first);
    auto query = host_receive_group("status_query");
    ASSERT_TRUE(query);
    answer_status(*this, (*query)["data"]["seq"], three_members());
    ASSERT_TRUE(m->pump_until([&] { return m->statuses.size() >= 2; }));
    EXPECT_EQ(static_cast<uint32_t>(first), m->statuses[0].query_id);
    EXPECT_EQ(-ECANCELED, m->statuses[0].error);
    EXPECT_EQ(static_cast<uint32_t>(second), m->statuses[1].query_id);
    EXPECT_EQ(0, m->statuses[1].error) << m->statuses[1].reason;
    EXPECT_EQ(3u, m->statuses[1].members.size());
}

TEST_F(RelayTest, HostNackReachesMembers) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    host_send_group({{"version", 2}, {"msg_type", "nack"}, {"log_msg", "could not parse broadcast"}});
    ASSERT_TRUE(m->pump_until([&] { return !m->refusals.empty(); }));
    EXPECT_EQ(-EPROTO, m->refusals[0].error);
    EXPECT_NE(std::string::npos, m->refusals[0].reason.find("could not parse broadcast"));
}

TEST_F(RelayTest, WithoutAHostSendingFailsAtOnce) {
    start_daemon();
    auto m = joined_member();
    std::string p = "nobody listens";
    EXPECT_EQ(-EHOSTDOWN, sg_client_broadcast(m->client(), p.data(), p.size()));
    EXPECT_EQ(-EHOSTDOWN, sg_client_request_status(m->client(), 0));
}

TEST_F(RelayTest, MembersRecoverByThemselvesAfterADaemonRestart) {
    start_daemon();
    connect_host();
    auto m = joined_member();
    int id = sg_client_request_status(m->client(), 0);
    ASSERT_GT(id, 0);
    ASSERT_TRUE(host_receive_group("status_query"));
    stop_daemon();
    host.close();
    ASSERT_TRUE(m->pump_until([&] { return !m->connected(); }));
    ASSERT_TRUE(m->pump_until([&] { return !m->statuses.empty(); }));
    EXPECT_EQ(-ECONNRESET, m->statuses[0].error) << "the query died with the daemon";
    std::string p = "while away";
    EXPECT_EQ(-ENOTCONN, sg_client_broadcast(m->client(), p.data(), p.size()));

    start_daemon();
    connect_host();
    ASSERT_TRUE(m->wait_connected(15s)) << "no reconnect";
    host_broadcast("instance-00000004", "after the restart");
    ASSERT_TRUE(m->pump_until([&] { return !m->broadcasts.empty(); }));
    EXPECT_EQ("after the restart", m->broadcasts[0].payload);
    std::string out = "me too";
    ASSERT_EQ(0, sg_client_broadcast(m->client(), out.data(), out.size()));
    auto line = host_receive_group("broadcast");
    ASSERT_TRUE(line);
    EXPECT_EQ(out, (*line)["data"]["data"]);
}

}  // namespace
}  // namespace gsdk::test
