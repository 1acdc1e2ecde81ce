// The messaging schema (messaging_schema, from docs/protocols/messaging.md)
// against the lines the reference guest and host exchanged on cgcs.messaging
// (data/messaging.jsonl), and against what a peer would refuse. Our encoders
// for server groups and scaling are to be checked with the same schema.
#include <gtest/gtest.h>

#include <functional>

#include "messaging_schema.h"
#include "transcript.h"

using conformance::messaging::check_line;
using conformance::messaging::check_scale_data;
using conformance::messaging::check_server_group_data;
using conformance::messaging::check_service_request;
using conformance::messaging::Direction;
using json = nlohmann::json;

namespace {

const std::vector<conformance::TranscriptLine>& transcript() {
    static const auto t = conformance::read_transcript("messaging");
    return t;
}

Direction direction_of(const conformance::TranscriptLine& t) {
    return t.from_guest ? Direction::GuestToHost : Direction::HostToGuest;
}

std::string joined(const std::vector<std::string>& problems) {
    std::string s;
    for (const auto& p : problems) s += "\n  " + p;
    return s;
}

// The first transcript line sent from that side whose guest service is `local`.
json reference(bool from_guest, const std::string& local) {
    for (const auto& t : transcript())
        if (t.from_guest == from_guest && t.line.value(from_guest ? "source_addr" : "dest_addr", "") == local)
            return t.line;
    return nullptr;
}

// True when the schema refuses the reference line after `change`.
bool refused(bool from_guest, const std::string& local, const std::function<void(json&)>& change) {
    json line = reference(from_guest, local);
    EXPECT_FALSE(line.is_null()) << local;
    change(line);
    return !check_line(line, from_guest ? Direction::GuestToHost : Direction::HostToGuest).empty();
}

}  // namespace

TEST(MessagingSchema, EveryTranscriptLineConforms) {
    ASSERT_FALSE(transcript().empty());
    for (const auto& t : transcript()) EXPECT_EQ(joined(check_line(t.line, direction_of(t))), "") << t.line.dump();
}

TEST(MessagingSchema, TheTranscriptHasBothServicesInBothDirections) {
    // Otherwise the refusal tests below would have nothing to start from.
    for (const char* local : {"cgcs.server_grp", "cgcs.scale"})
        for (bool from_guest : {true, false}) EXPECT_FALSE(reference(from_guest, local).is_null()) << local;
}

TEST(MessagingSchema, RefusesABrokenEnvelope) {
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"] = j["data"].dump(); }));  // JSON in a string
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j.erase("source_addr"); }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j.erase("data"); }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["version"] = 1; }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["version"] = "2"; }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["source_addr"] = "cgcs.server_group"; }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["extra"] = true; }));
    EXPECT_TRUE(refused(false, "cgcs.scale", [](json& j) { j["source_addr"] = "scale-2"; }));
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["dest_addr"] = "cgcs.server_grp"; }));
    EXPECT_FALSE(check_line(json::array(), Direction::GuestToHost).empty());
}

TEST(MessagingSchema, ServerGroupLayer) {
    // The host's mangled inner version is delivered; a guest must send 2.
    json host_broadcast = reference(false, "cgcs.server_grp");
    ASSERT_EQ(host_broadcast["data"]["version"], "version");
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"]["version"] = "version"; }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"].erase("version"); }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"]["data"] = std::string(3051, 'x'); }));
    EXPECT_FALSE(refused(true, "cgcs.server_grp", [](json& j) { j["data"]["data"] = std::string(3050, 'x'); }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"]["data"] = "two\nlines"; }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"]["source_instance"] = "me"; }));
    EXPECT_TRUE(refused(true, "cgcs.server_grp", [](json& j) { j["data"]["msg_type"] = "notification"; }));
    EXPECT_TRUE(refused(false, "cgcs.server_grp", [](json& j) { j["data"].erase("source_instance"); }));
    EXPECT_TRUE(refused(false, "cgcs.server_grp", [](json& j) { j["data"]["data"] = 5; }));

    // Host messages the capture lacks, written from the facts.
    auto host = [](json data) { return check_server_group_data(data, Direction::HostToGuest); };
    json member = {{"instance_id", "i-1"}, {"state", "active"}};
    EXPECT_EQ(joined(host({{"msg_type", "notification"}, {"data", member}})), "");
    EXPECT_EQ(joined(host({{"version", 2}, {"msg_type", "status_response"}, {"seq", 3}, {"data", member}})), "");
    EXPECT_EQ(joined(host({{"version", 2}, {"msg_type", "status_response_done"}, {"seq", 3}})), "");
    EXPECT_EQ(joined(host({{"msg_type", "nack"}, {"log_msg", "bad"}})), "");
    EXPECT_EQ(joined(host({{"msg_type", "nack"}, {"log_msg", "bad"}, {"orig_msg_type", "broadcast"}})), "");
    EXPECT_FALSE(host({{"msg_type", "notification"}, {"data", member.dump()}}).empty());
    EXPECT_FALSE(host({{"msg_type", "status_response"}, {"data", member}}).empty());
    EXPECT_FALSE(host({{"msg_type", "nack"}}).empty());
    EXPECT_FALSE(host({{"msg_type", "status_query"}, {"seq", 1}}).empty());
}

TEST(MessagingSchema, ScalingLayer) {
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["data"]["msg_type"] = "scale_response"; }));
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["data"]["online_cpus"] = {0, 1, 2, 3}; }));
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["data"]["offline_cpu"] = 0; }));
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["data"]["online_cpu"] = 3; }));
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["data"]["result"] = "ok"; }));
    EXPECT_TRUE(refused(true, "cgcs.scale", [](json& j) { j["data"]["online_cpus"] = "[0,1,2]"; }));
    EXPECT_TRUE(refused(false, "cgcs.scale", [](json& j) { j["data"].erase("timeout_ms"); }));
    EXPECT_TRUE(refused(false, "cgcs.scale", [](json& j) { j["data"]["resource"] = "memory"; }));
    EXPECT_TRUE(refused(false, "cgcs.scale", [](json& j) { j["data"]["online_cpu"] = 3; }));  // down

    auto guest = [](json data) { return check_scale_data(data, Direction::GuestToHost); };
    auto host = [](json data) { return check_scale_data(data, Direction::HostToGuest); };
    json up_request = {{"version", 2},
                       {"msg_type", "scale_request"},
                       {"timeout_ms", 9000},
                       {"resource", "cpu"},
                       {"direction", "up"},
                       {"online_cpu", 3},
                       {"online_cpus", {0, 1, 2, 3}}};
    EXPECT_EQ(joined(host(up_request)), "");
    up_request.erase("online_cpus");
    EXPECT_FALSE(host(up_request).empty());
    json up_ok = {{"version", 2},        {"resource", "cpu"}, {"direction", "up"},
                  {"result", "success"}, {"online_cpu", 3},   {"online_cpus", {0, 1, 2, 3}}};
    EXPECT_EQ(joined(guest(up_ok)), "");
    up_ok["online_cpus"] = {0, 1, 2};
    EXPECT_FALSE(guest(up_ok).empty());
    json failed = {{"version", 2}, {"resource", "cpu"}, {"direction", "down"}, {"result", "fail"}, {"err_msg", "busy"}};
    EXPECT_EQ(joined(guest(failed)), "");
    failed["offline_cpu"] = 3;
    EXPECT_FALSE(guest(failed).empty());
    failed.erase("offline_cpu");
    failed.erase("err_msg");
    EXPECT_FALSE(guest(failed).empty());
}

TEST(MessagingSchema, ALocalServiceLeavesSourceAddrToTheRelay) {
    json line = reference(true, "cgcs.server_grp");
    json request = line;
    request.erase("source_addr");
    EXPECT_EQ(joined(check_service_request(request, "cgcs.server_grp")), "");
    EXPECT_FALSE(check_service_request(line, "cgcs.server_grp").empty());
    EXPECT_FALSE(check_service_request(request, "cgcs.elsewhere").empty());
    request["data"] = request["data"].dump();
    EXPECT_FALSE(check_service_request(request, "cgcs.server_grp").empty());
}
