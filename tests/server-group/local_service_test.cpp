// Local services by address (guest-scaled at cgcs.scale): what the host
// sends to a claimed address reaches the service with its source_addr; the
// service's reply reaches the host with the dest_addr it chose and
// source_addr = the claimed address. Claims are reserved per address.
#include <unistd.h>

#include <cerrno>

#include "child_as.h"
#include "local_service_peer.h"
#include "sg_fixture.h"

namespace gsdk::test {
namespace {

using nlohmann::json;

class LocalServiceTest : public ServerGroupTest {};

const json kScaleDown = {
    {"version", 2}, {"msg_type", "scale_request"}, {"timeout_ms", 9000}, {"resource", "cpu"}, {"direction", "down"}};

TEST_F(LocalServiceTest, ScaleRequestReachesTheServiceAndItsReplyTheHost) {
    start_daemon();
    connect_host();
    TestService scale(service_socket());
    ASSERT_TRUE(scale.connected());
    auto claimed = scale.claim("cgcs.scale");
    ASSERT_TRUE(claimed);
    ASSERT_TRUE(claimed->accepted()) << claimed->reason();
    EXPECT_TRUE(claimed->host_connected());

    host_send({{"data", kScaleDown}, {"version", 2}, {"dest_addr", "cgcs.scale"}, {"source_addr", "scale-00000002"}});
    auto delivered = scale.receive_kind(service::RelayMessage::kDeliver);
    ASSERT_TRUE(delivered);
    EXPECT_EQ("scale-00000002", delivered->deliver().source_addr());
    EXPECT_EQ(kScaleDown, json::parse(delivered->deliver().data_json()));

    json reply = {{"version", 2},        {"resource", "cpu"}, {"direction", "down"},
                  {"result", "success"}, {"offline_cpu", 3},  {"online_cpus", {0, 1, 2}}};
    service::ServiceMessage send;
    send.mutable_send()->set_dest_addr(delivered->deliver().source_addr());
    send.mutable_send()->set_data_json(reply.dump());
    scale.send(send);
    auto line = host_receive();
    ASSERT_TRUE(line);
    EXPECT_EQ((json{{"version", 2}, {"dest_addr", "scale-00000002"}, {"source_addr", "cgcs.scale"}, {"data", reply}}),
              *line);
}

TEST_F(LocalServiceTest, AnAddressHasOneServiceAndOnlyReservedAddressesCanBeClaimed) {
    start_daemon();
    connect_host();
    TestService first(service_socket()), second(service_socket());
    ASSERT_TRUE(first.claim("cgcs.scale")->accepted());
    auto taken = second.claim("cgcs.scale");
    ASSERT_TRUE(taken);
    EXPECT_FALSE(taken->accepted());
    EXPECT_EQ(EADDRINUSE, taken->error());
    auto group = second.claim("cgcs.server_grp");
    EXPECT_EQ(ENOENT, group->error()) << "the server-group address is the daemon's own";
    auto unknown = second.claim("cgcs.other");
    EXPECT_EQ(ENOENT, unknown->error());
}

TEST_F(LocalServiceTest, BadRepliesAreRefusedWithTheCause) {
    start_daemon();
    connect_host();
    TestService scale(service_socket());
    ASSERT_TRUE(scale.claim("cgcs.scale")->accepted());
    auto try_send = [&](const std::string& dest, const std::string& data) {
        service::ServiceMessage m;
        m.mutable_send()->set_dest_addr(dest);
        m.mutable_send()->set_data_json(data);
        scale.send(m);
        return scale.receive_kind(service::RelayMessage::kSendRefused);
    };
    auto r = try_send("scale-00000002", "[1,2]");
    ASSERT_TRUE(r);
    EXPECT_EQ(EINVAL, r->send_refused().error());
    r = try_send("a-destination-far-too-long", "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(EINVAL, r->send_refused().error());
    r = try_send("scale-00000002", "{not json");
    ASSERT_TRUE(r);
    EXPECT_EQ(EINVAL, r->send_refused().error());
    EXPECT_FALSE(host_receive(300ms)) << "nothing reached the host";
}

TEST_F(LocalServiceTest, WhenTheServiceLeavesItsAddressIsFreeAndMessagesAreLogged) {
    start_daemon();
    connect_host();
    {
        TestService scale(service_socket());
        ASSERT_TRUE(scale.claim("cgcs.scale")->accepted());
    }
    ASSERT_TRUE(wait_for_text(daemon_log(), "local service cgcs.scale", 5s));
    host_send({{"data", kScaleDown}, {"version", 2}, {"dest_addr", "cgcs.scale"}, {"source_addr", "scale-00000003"}});
    EXPECT_TRUE(
        wait_for_text(daemon_log(), "no local service at address cgcs.scale; a message from scale-00000003", 5s));
    TestService again(service_socket());
    EXPECT_TRUE(again.claim("cgcs.scale")->accepted());
}

TEST_F(LocalServiceTest, OnlyRootOrTheConfiguredUserMayClaim) {
    // Both users reach the socket through its group; the address's owner is
    // what the daemon checks.
    extra_config = "LOCAL_SERVICES=cgcs.scale:4545\nSOCKET_GROUP=4646\n";
    start_daemon();
    connect_host();
    std::string path = service_socket();
    auto claim_as = [&](uid_t who) {
        return run_in_child_with_groups(
            [path] {
                TestService s(path);
                auto r = s.claim("cgcs.scale");
                return r ? std::to_string(r->accepted()) + ":" + std::to_string(r->error()) + ":" + r->reason()
                         : std::string("closed");
            },
            who, {4646});
    };
    auto nobody = claim_as(kNobody);
    ASSERT_TRUE(nobody);
    EXPECT_EQ(0u, nobody->rfind("0:13:", 0)) << *nobody;  // EACCES
    auto owner = claim_as(4545);
    ASSERT_TRUE(owner);
    EXPECT_EQ(0u, owner->rfind("1:", 0)) << *owner;
}

}  // namespace
}  // namespace gsdk::test
