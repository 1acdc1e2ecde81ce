// Legacy users: the server_group.h API of libserver_group, and binaries
// that bundle the original libservergroup.so.2 and reach server-groupd over
// its abstract datagram sockets (played here by OriginalLibrarySocket).
#include <cerrno>
#include <cstring>

#include "child_as.h"
#include "original_library_socket.h"
#include "server_group.h"
#include "sg_fixture.h"

namespace gsdk::test {
namespace {

using nlohmann::json;

class LegacyTest : public ServerGroupTest {
protected:
    void SetUp() override {
        ServerGroupTest::SetUp();
        // The abstract names are one per network namespace: without our own,
        // this test would meet the datagrams of tests running beside it.
        if (!own_network) GTEST_SKIP() << "no private network namespace (needs CAP_SYS_ADMIN)";
    }
};

std::vector<json> two_members() {
    return {{{"instance_name", "instance-00000001"}, {"state", "active"}},
            {{"instance_name", "instance-00000002"}, {"state", "paused"}}};
}

// --- the legacy API of our library -----------------------------------------

std::string g_status_text;
std::string g_broadcast_text;
std::string g_broadcast_source;

TEST_F(LegacyTest, LegacyApiKeepsItsContractAndEnforcesTheLimit) {
    start_daemon();
    connect_host();
    std::string socket = client_socket();
    auto result = run_in_child(
        [socket] {
            ::setenv("SERVER_GROUP_SOCKET", socket.c_str(), 1);
            json out;
            int fd = init_sg(
                [](char* source, void* msg, unsigned short len) {
                    g_broadcast_source = source;
                    g_broadcast_text.assign(static_cast<char*>(msg), len);
                },
                nullptr, [](void* msg, unsigned short len) { g_status_text.assign(static_cast<char*>(msg), len); });
            out["fd"] = fd;
            out["second_init"] = init_sg(nullptr, nullptr, nullptr);
            out["second_init_error"] = sg_get_error();
            char hello[] = "hello from a legacy VNF";
            out["plain"] = sg_msg_broadcast(hello, std::strlen(hello));
            std::string too_long(3051, 'z');
            out["too_long"] = sg_msg_broadcast(too_long.data(), 3051);
            out["too_long_errno"] = errno;
            out["too_long_error"] = sg_get_error();
            char with_nul[] = "stops at the NUL\0not sent";
            out["with_nul"] = sg_msg_broadcast(with_nul, sizeof with_nul);
            char len_zero[] = "len 0 means up to the NUL";
            out["len_zero"] = sg_msg_broadcast(len_zero, 0);
            out["status"] = sg_request_status();
            for (int i = 0; i < 200 && (g_status_text.empty() || g_broadcast_text.empty()); ++i) {
                fd_set readable;
                FD_ZERO(&readable);
                FD_SET(fd, &readable);
                timeval tick{0, 100000};
                if (select(fd + 1, &readable, nullptr, nullptr, &tick) > 0) process_sg_msg();
            }
            out["status_text"] = g_status_text;
            out["broadcast"] = g_broadcast_text;
            out["broadcast_source"] = g_broadcast_source;
            return out.dump();
        },
        std::nullopt,
        [this] {
            for (const char* expected : {"hello from a legacy VNF", "stops at the NUL", "len 0 means up to the NUL"}) {
                auto line = host_receive_group("broadcast");
                ASSERT_TRUE(line) << expected;
                EXPECT_EQ(expected, (*line)["data"]["data"]);
            }
            auto query = host_receive_group("status_query");
            ASSERT_TRUE(query);
            host_broadcast("instance-00000009", "to the legacy member");
            for (const auto& m : two_members())
                host_send_group(
                    {{"version", 2}, {"msg_type", "status_response"}, {"seq", (*query)["data"]["seq"]}, {"data", m}});
            host_send_group({{"version", 2}, {"msg_type", "status_response_done"}, {"seq", (*query)["data"]["seq"]}});
        });
    ASSERT_TRUE(result);
    json out = json::parse(*result);
    EXPECT_GE(out["fd"].get<int>(), 0);
    EXPECT_EQ(-1, out["second_init"]);
    EXPECT_NE(std::string::npos, out["second_init_error"].get<std::string>().find("already"));
    EXPECT_EQ(0, out["plain"]);
    EXPECT_EQ(-1, out["too_long"]);
    EXPECT_EQ(EMSGSIZE, out["too_long_errno"]);
    EXPECT_NE(std::string::npos, out["too_long_error"].get<std::string>().find("3050")) << out["too_long_error"];
    EXPECT_EQ(0, out["with_nul"]);
    EXPECT_EQ(0, out["len_zero"]);
    EXPECT_EQ(0, out["status"]);
    EXPECT_EQ(json(two_members()), json::parse(out["status_text"].get<std::string>()));
    EXPECT_EQ("to the legacy member", out["broadcast"]);
    EXPECT_EQ("instance-00000009", out["broadcast_source"]);
}

TEST_F(LegacyTest, LegacyStatusFailureIsAnErrorWithItsReason) {
    extra_config = "STATUS_TIMEOUT_MS=300\n";
    start_daemon();
    connect_host();
    Subprocess probe;
    probe.start({SG_PROBE, "--legacy", "--status"}, dir / "probe.log", {"SERVER_GROUP_SOCKET=" + client_socket()});
    ASSERT_TRUE(host_receive_group("status_query"));
    EXPECT_TRUE(wait_for_text(dir / "probe.log", "status query failed: the host did not finish", 10s))
        << read_file(dir / "probe.log");
    probe.stop();
}

TEST_F(LegacyTest, LegacyProgramOnTheSharedLibraryReceives) {
    start_daemon();
    connect_host();
    Subprocess probe;
    probe.start({SG_PROBE, "--legacy"}, dir / "probe.log", {"SERVER_GROUP_SOCKET=" + client_socket()});
    ASSERT_TRUE(wait_for_text(dir / "probe.log", "\"ready\"", 10s)) << read_file(dir / "probe.log");
    ASSERT_TRUE(wait_for_text(daemon_log(), "(sg_probe) said hello", 10s));
    host_broadcast("instance-00000005", "through the .so");
    host_notification({{"state", "error"}});
    EXPECT_TRUE(wait_for_text(dir / "probe.log", to_hex("through the .so"), 10s)) << read_file(dir / "probe.log");
    EXPECT_TRUE(wait_for_text(dir / "probe.log", R"({\"state\":\"error\"})", 10s)) << read_file(dir / "probe.log");
    probe.stop();
}

// --- binaries with the original library --------------------------------------

TEST_F(LegacyTest, OriginalLibraryBroadcastReachesTheHost) {
    start_daemon();
    connect_host();
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());
    ASSERT_EQ(0, original.send(OriginalLibrarySocket::broadcast_text(R"(a\/b \"q\" \u00fc)")));
    auto line = host_receive_group("broadcast");
    ASSERT_TRUE(line);
    EXPECT_EQ("cgcs.server_grp", (*line)["source_addr"]);
    EXPECT_EQ("cgcs.server_grp", (*line)["dest_addr"]);
    EXPECT_EQ("a/b \"q\" \xc3\xbc", (*line)["data"]["data"]);
}

TEST_F(LegacyTest, HostMessagesReachTheOriginalLibraryAndOurs) {
    start_daemon();
    connect_host();
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());
    auto m = joined_member();
    host_broadcast("instance-00000002", "hello back");
    auto got = original.receive();
    ASSERT_TRUE(got) << original.raw();
    // The original library needs version 2 and source_addr cgcs.server_grp.
    EXPECT_EQ(2, (*got)["version"]);
    EXPECT_EQ("cgcs.server_grp", (*got)["source_addr"]);
    EXPECT_FALSE(got->contains("dest_addr"));
    EXPECT_EQ("broadcast", (*got)["data"]["msg_type"]);
    EXPECT_EQ("instance-00000002", (*got)["data"]["source_instance"]);
    EXPECT_EQ("hello back", (*got)["data"]["data"]);
    EXPECT_EQ(std::string::npos, original.raw().find('\n')) << "one JSON text, no newline";
    ASSERT_TRUE(m->pump_until([&] { return !m->broadcasts.empty(); }));
    EXPECT_EQ("hello back", m->broadcasts[0].payload);
}

TEST_F(LegacyTest, OriginalLibraryStatusQueryIsAnsweredWithItsOwnSeq) {
    start_daemon();
    connect_host();
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());
    ASSERT_EQ(0, original.send(OriginalLibrarySocket::status_query_text(7)));
    auto query = host_receive_group("status_query");
    ASSERT_TRUE(query);
    json seq = (*query)["data"]["seq"];
    for (const auto& m : two_members())
        host_send_group({{"version", 2}, {"msg_type", "status_response"}, {"seq", seq}, {"data", m}});
    host_send_group({{"version", 2}, {"msg_type", "status_response_done"}, {"seq", seq}});
    for (const auto& m : two_members()) {
        auto got = original.receive();
        ASSERT_TRUE(got) << original.raw();
        EXPECT_EQ("status_response", (*got)["data"]["msg_type"]);
        EXPECT_EQ(7, (*got)["data"]["seq"]);
        EXPECT_EQ(m, (*got)["data"]["data"]);
    }
    auto done = original.receive();
    ASSERT_TRUE(done) << original.raw();
    EXPECT_EQ("status_response_done", (*done)["data"]["msg_type"]);
    EXPECT_EQ(7, (*done)["data"]["seq"]);
}

TEST_F(LegacyTest, OriginalLibraryOversizeIsRefusedWithANack) {
    start_daemon();
    connect_host();
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());
    ASSERT_EQ(0, original.send(OriginalLibrarySocket::broadcast_text(std::string(3051, 'y'))));
    auto nack = original.receive();
    ASSERT_TRUE(nack) << original.raw();
    EXPECT_EQ("cgcs.server_grp", (*nack)["source_addr"]);
    EXPECT_EQ("nack", (*nack)["data"]["msg_type"]);
    EXPECT_NE(std::string::npos, (*nack)["data"]["log_msg"].get<std::string>().find("3050"));
    ASSERT_EQ(0, original.send(OriginalLibrarySocket::broadcast_text(std::string(3050, 'y'))));
    auto line = host_receive_group("broadcast");
    ASSERT_TRUE(line);
    EXPECT_EQ(3050u, (*line)["data"]["data"].get<std::string>().size()) << "the refused one never reached the host";
}

TEST_F(LegacyTest, WhatTheOriginalCannotReadIsNotSentToIt) {
    start_daemon();
    connect_host();
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());
    auto m = joined_member();
    // 3050 control characters escape to over 18000 bytes: more than 4096.
    host_broadcast("instance-00000002", std::string(3050, '\x01'));
    host_broadcast("instance-00000002", "small");
    auto got = original.receive();
    ASSERT_TRUE(got) << original.raw();
    EXPECT_EQ("small", (*got)["data"]["data"]) << "the large one was skipped, not cut";
    ASSERT_TRUE(m->pump_until([&] { return m->broadcasts.size() >= 2; }));
    EXPECT_EQ(std::string(3050, '\x01'), m->broadcasts[0].payload);
    EXPECT_TRUE(wait_for_text(daemon_log(), "larger than the original library can receive", 5s));
}

TEST_F(LegacyTest, OnlyTheServerGroupLibrarysNameIsRelayed) {
    start_daemon();
    connect_host();
    OriginalLibrarySocket other("cgcs.other");
    ASSERT_TRUE(other.bound());
    ASSERT_EQ(0, other.send(OriginalLibrarySocket::broadcast_text("from elsewhere")));
    auto nack = other.receive();
    ASSERT_TRUE(nack) << other.raw();
    EXPECT_EQ("nack", (*nack)["data"]["msg_type"]);
    EXPECT_FALSE(host_receive_group("broadcast", 300ms));
}

TEST_F(LegacyTest, OriginalLibraryOfAnUnprivilegedUserIsRefused) {
    start_daemon();
    connect_host();
    auto result = run_in_child(
        [] {
            OriginalLibrarySocket original;
            if (!original.bound()) return std::string("not bound");
            if (original.send(OriginalLibrarySocket::broadcast_text("from nobody")) < 0) return std::string("send");
            auto nack = original.receive();
            return nack ? (*nack)["data"].value("log_msg", "") : std::string("no answer");
        },
        kNobody);
    ASSERT_TRUE(result);
    EXPECT_NE(std::string::npos, result->find("not allowed")) << *result;
    EXPECT_FALSE(host_receive_group("broadcast", 300ms)) << "nothing of it reached the host";
    EXPECT_TRUE(wait_for_text(daemon_log(), "uid 65534", 5s));
}

}  // namespace
}  // namespace gsdk::test
