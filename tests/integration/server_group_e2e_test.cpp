// Server-group messaging end to end (server_group_cluster.h): broadcasts,
// payloads, status answers, several processes per VM and a binary bundling
// the original library, through the real vmhostd between simulated VMs.
#include <unistd.h>

#include <climits>
#include <regex>
#include <set>

#include "original_library_socket.h"
#include "server_group_cluster.h"

using namespace gsdk::test;
using nlohmann::json;

namespace {

// `bytes` long, made of multi-byte UTF-8 and ASCII, valid under the payload rule.
std::string payload_of(std::size_t bytes) {
    const std::string pieces[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "a\"\\/"};
    std::string out;
    for (std::size_t k = 0; out.size() + 4 <= bytes; ++k) out += pieces[k % 4];
    while (out.size() < bytes) out += 'z';
    return out;
}

// The JSON lines an sg_probe printed, with `event`.
std::vector<json> probe_events(const std::string& log, const std::string& event) {
    std::vector<json> out;
    std::string text = read_file(log);
    std::size_t at = 0;
    for (std::size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
        auto j = json::parse(text.substr(at, nl - at), nullptr, false);
        if (j.is_object() && j.value("event", "") == event) out.push_back(j);
    }
    return out;
}

class ServerGroupEndToEnd : public ServerGroupCluster {};

}  // namespace

TEST_F(ServerGroupEndToEnd, BroadcastReachesEveryOtherMemberByteExactUpToTheLimit) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    std::vector<std::string> sent;
    for (std::size_t size : {1u, 3049u, 3050u}) {
        sent.push_back(payload_of(size));
        ASSERT_EQ(sent.back().size(), size);
        ASSERT_EQ(sg_client_broadcast(member(1).client(), sent.back().data(), size), 0) << size;
    }
    // One byte more is refused by the library, never cut.
    std::string too_long = payload_of(3051);
    EXPECT_EQ(sg_client_broadcast(member(1).client(), too_long.data(), too_long.size()), -EMSGSIZE);

    ASSERT_TRUE(pump(all_members(), [&] {
        return payloads_from(member(2), "vm-1").size() >= 3 && payloads_from(member(3), "vm-1").size() >= 3;
    }));
    EXPECT_EQ(payloads_from(member(2), "vm-1"), sent);
    EXPECT_EQ(payloads_from(member(3), "vm-1"), sent);
    // The sender gets no copy, and the other group nothing: each VM's status
    // answer comes behind anything the host had written to it.
    settle(1);
    settle(4);
    EXPECT_TRUE(member(1).broadcasts.empty()) << "echo to the sender: " << member(1).broadcasts.size();
    EXPECT_TRUE(member(4).broadcasts.empty()) << "a member of g2 got g1's broadcast";
    EXPECT_EQ(member(2).broadcasts.size(), 3u);  // and nothing else (not the 3051 bytes)
    EXPECT_EQ(member(2).lost + member(3).lost, 0u);
}

TEST_F(ServerGroupEndToEnd, EveryPayloadThePayloadRuleAllowsArrivesUnchanged) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    std::string controls;
    for (int c = 1; c < 0x20; ++c)
        if (c != '\n' && c != '\r') controls += static_cast<char>(c);
    std::string all_controls;  // the largest escape: 3050 bytes of \u00XX
    while (all_controls.size() < 3050) all_controls += '\x01';
    const std::vector<std::string> payloads = {
        "plain ascii",
        "\"quoted\" and 'single'",
        "back\\slash \\\\ \\n \\u0000 \\\"",
        "{\"looks\":\"like json\",\"n\":[1,2]}",
        "/ slashes </script> //",
        controls + "\x7f",
        "tab\there",
        "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80",  // é € 中文 😀
        "\xE2\x80\xA8\xE2\x80\xA9",                                                  // U+2028, U+2029
        "\xEF\xBB\xBF bom",                                                          // U+FEFF
        "\xF4\x8F\xBF\xBF \xEF\xBF\xBF",                                             // U+10FFFF, U+FFFF
        " leading and trailing ",
        "%s %n %x",
        all_controls,
    };
    for (const auto& p : payloads) {
        ASSERT_EQ(sg_payload_check(p.data(), p.size()), 0) << p;
        ASSERT_EQ(sg_client_broadcast(member(2).client(), p.data(), p.size()), 0) << p;
    }
    ASSERT_TRUE(pump(all_members(), [&] {
        return payloads_from(member(1), "vm-2").size() >= payloads.size() &&
               payloads_from(member(3), "vm-2").size() >= payloads.size();
    }));
    EXPECT_EQ(payloads_from(member(1), "vm-2"), payloads);
    EXPECT_EQ(payloads_from(member(3), "vm-2"), payloads);
    // What the rule refuses is refused by the library before it leaves.
    for (const std::string& bad : {std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3),
                                   std::string("\xC3\x28"), std::string("\xED\xA0\x80"), std::string("\xC0\xAF")})
        EXPECT_EQ(sg_client_broadcast(member(2).client(), bad.data(), bad.size()), -EINVAL) << to_hex(bad);
}

TEST_F(ServerGroupEndToEnd, TwoProcessesInOneVmBothReceive) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    // Two more processes in vm-2, one on each API, each asking for the
    // status once registered: its answer proves the daemon serves it.
    Subprocess modern, legacy;
    std::string modern_log = root / "probe-modern.log", legacy_log = root / "probe-legacy.log";
    std::vector<std::string> env = {"SERVER_GROUP_SOCKET=" + vm(2).client_socket()};
    modern.start({SG_PROBE, "--status", "--socket", vm(2).client_socket()}, modern_log);
    legacy.start({SG_PROBE, "--legacy", "--status"}, legacy_log, env);
    ASSERT_TRUE(pump(
        all_members(),
        [&] { return !probe_events(modern_log, "status").empty() && !probe_events(legacy_log, "status").empty(); }))
        << read_file(modern_log) << read_file(legacy_log);
    EXPECT_EQ(probe_events(modern_log, "status")[0].value("error", -1), 0) << read_file(modern_log);
    EXPECT_EQ(probe_events(legacy_log, "status")[0].value("error", -1), 0) << read_file(legacy_log);

    std::string payload = "to every process \xE2\x9C\x93";
    ASSERT_EQ(sg_client_broadcast(member(1).client(), payload.data(), payload.size()), 0);
    ASSERT_TRUE(pump(all_members(),
                     [&] {
                         return !probe_events(modern_log, "broadcast").empty() &&
                                !probe_events(legacy_log, "broadcast").empty() && !member(2).broadcasts.empty();
                     }))
        << read_file(modern_log) << read_file(legacy_log);
    for (const auto& log : {modern_log, legacy_log}) {
        auto b = probe_events(log, "broadcast");
        ASSERT_EQ(b.size(), 1u) << read_file(log);
        EXPECT_EQ(b[0].value("source", ""), "vm-1");
        EXPECT_EQ(from_hex(b[0].value("hex", "")), payload);
    }
    EXPECT_EQ(payloads_from(member(2), "vm-1"), std::vector<std::string>{payload});
}

TEST_F(ServerGroupEndToEnd, StatusThroughTheLibraryHasEveryMemberThenDone) {
    start();
    ASSERT_FALSE(HasFatalFailure());
    char host[HOST_NAME_MAX + 1] = {};
    ::gethostname(host, sizeof host - 1);
    for (int i = 1; i <= kVms; ++i) {
        auto status = status_of(i);
        ASSERT_EQ(status.error, 0) << name(i) << ": " << status.reason;
        std::set<std::string> names, expected;
        for (int k : group_of(i)) expected.insert(name(k));
        auto array = json::parse(status.array, nullptr, false);
        ASSERT_TRUE(array.is_array()) << status.array;
        ASSERT_EQ(array.size(), status.members.size());
        for (std::size_t k = 0; k < status.members.size(); ++k) {
            auto m = json::parse(status.members[k]);
            EXPECT_EQ(array[k], m);
            names.insert(m.value("instance_name", ""));
            EXPECT_EQ(m.value("instance_id", ""), m.value("instance_name", ""));
            EXPECT_EQ(m.value("host", ""), host);
            EXPECT_EQ(m["server_groups"], json::array({i <= 3 ? "g1" : "g2"}));
            EXPECT_EQ(m.value("state", ""), "active");
            EXPECT_TRUE(m["task_state"].is_null());
            EXPECT_EQ(m.value("power_state", ""), "running");
            EXPECT_EQ(m.value("messaging", ""), "connected");
            EXPECT_TRUE(m.contains("heartbeat")) << m;
        }
        EXPECT_EQ(names, expected) << name(i);
    }
    // The legacy API gets the same answer as one JSON array.
    Subprocess legacy;
    std::string log = root / "probe-legacy.log";
    legacy.start({SG_PROBE, "--legacy", "--status"}, log, {"SERVER_GROUP_SOCKET=" + vm(3).client_socket()});
    ASSERT_TRUE(pump(all_members(), [&] { return !probe_events(log, "status").empty(); })) << read_file(log);
    auto array = json::parse(probe_events(log, "status")[0].value("array", ""), nullptr, false);
    ASSERT_TRUE(array.is_array()) << read_file(log);
    std::set<std::string> names;
    for (const auto& m : array) names.insert(m.value("instance_name", ""));
    EXPECT_EQ(names, (std::set<std::string>{"vm-1", "vm-2", "vm-3"}));
}

TEST_F(ServerGroupEndToEnd, BinaryWithTheOriginalLibraryTakesPartInTheGroup) {
    if (!own_network) GTEST_SKIP() << "needs a network namespace of its own (root) for the abstract names";
    start();
    ASSERT_FALSE(HasFatalFailure());
    // In vm-1, as a binary bundling the original libservergroup.so.2 talks.
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());
    ASSERT_EQ(original.send(OriginalLibrarySocket::broadcast_text("from the original \\/ library")), 0);
    ASSERT_TRUE(pump(all_members(), [&] {
        return !payloads_from(member(2), "vm-1").empty() && !payloads_from(member(3), "vm-1").empty();
    }));
    EXPECT_EQ(payloads_from(member(2), "vm-1")[0], "from the original / library");
    EXPECT_EQ(payloads_from(member(3), "vm-1")[0], "from the original / library");

    // What the host sends vm-1 reaches it as the original agent sent it.
    std::string payload = "to the original \xC3\xA9";
    ASSERT_EQ(sg_client_broadcast(member(3).client(), payload.data(), payload.size()), 0);
    auto datagram = original.receive(kE2eDeadline);
    ASSERT_TRUE(datagram) << "no datagram for the original library";
    EXPECT_EQ((*datagram)["version"], 2) << original.raw();
    EXPECT_EQ((*datagram)["source_addr"], "cgcs.server_grp") << original.raw();
    EXPECT_EQ((*datagram)["data"]["msg_type"], "broadcast") << original.raw();
    EXPECT_EQ((*datagram)["data"]["source_instance"], "vm-3") << original.raw();
    EXPECT_EQ((*datagram)["data"]["data"], payload) << original.raw();

    // Its status query keeps its own seq, every member then done.
    ASSERT_EQ(original.send(OriginalLibrarySocket::status_query_text(41)), 0);
    std::set<std::string> names;
    bool done = false;
    while (!done) {
        auto d = original.receive(kE2eDeadline);
        ASSERT_TRUE(d) << "the status answer stopped after " << names.size() << " members";
        const auto& data = (*d)["data"];
        std::string type = data.value("msg_type", "");
        if (type == "status_response") {
            EXPECT_EQ(data["seq"], 41);
            names.insert(data["data"].value("instance_name", ""));
        } else if (type == "status_response_done") {
            EXPECT_EQ(data["seq"], 41);
            done = true;
        }
    }
    EXPECT_EQ(names, (std::set<std::string>{"vm-1", "vm-2", "vm-3"}));
    // Our own member in the same VM gets nothing of its VM's broadcast.
    settle(1);
    EXPECT_TRUE(payloads_from(member(1), "vm-1").empty());
}
