// Conformance of vmhostd's server-group relay on cgcs.messaging: the real
// vmhostd, three VMs in one group with fake server-groupds; every line it
// writes is checked against the envelope v2 and server-group layer facts
// (transcribed here from the protocol, independently of the host's code) and
// against the shapes of the host lines in data/messaging.jsonl, and through
// the shared messaging schema (messaging_schema.h); every legacy guest
// server-group line there is accepted.
#include <gtest/gtest.h>

#include <set>

#include "heartbeat_schema.h"
#include "host_test_support.h"
#include "messaging_guest.h"
#include "messaging_schema.h"
#include "transcript.h"

namespace {

using namespace hosttest;
using nlohmann::json;

std::vector<json> legacy_lines(bool from_guest) {
    std::vector<json> out;
    for (const auto& t : conformance::read_transcript("messaging"))
        if (t.from_guest == from_guest) out.push_back(t.line);
    return out;
}

std::set<std::string> keys_of(const json& j) {
    std::set<std::string> k;
    for (const auto& [key, v] : j.items()) k.insert(key);
    return k;
}

bool is_int(const json& v) { return v.is_number_integer(); }
bool is_address(const json& v) {
    return v.is_string() && !v.get<std::string>().empty() && v.get<std::string>().size() <= 16;
}

// The facts: envelope v2 (host -> guest) and the server-group layer.
std::vector<std::string> check_host_line(const json& line) {
    std::vector<std::string> problems;
    auto problem = [&](const std::string& p) { problems.push_back(p + " in " + line.dump().substr(0, 200)); };
    if (!line.is_object()) {
        problem("not a JSON object");
        return problems;
    }
    if (keys_of(line) != std::set<std::string>{"version", "source_addr", "dest_addr", "data"})
        problem("envelope keys are not version, source_addr, dest_addr, data");
    if (!(is_int(line["version"]) && line["version"] == 2)) problem("envelope version is not the integer 2");
    if (!is_address(line["source_addr"])) problem("source_addr is not an address of 1-16 bytes");
    if (line["source_addr"] != "cgcs.server_grp") problem("source_addr is not the relay's cgcs.server_grp");
    if (line["dest_addr"] != "cgcs.server_grp") problem("dest_addr is not the guest's cgcs.server_grp");
    const json& d = line["data"];
    if (!d.is_object()) {
        problem("data is not a nested object");
        return problems;
    }
    // The inner version: 2 from us; the real host's "version" string is tolerated by guests.
    if (!(is_int(d["version"]) && d["version"] == 2)) problem("inner version is not 2");
    if (!d["msg_type"].is_string()) {
        problem("msg_type is not a string");
        return problems;
    }
    std::string type = d["msg_type"];
    std::set<std::string> keys = keys_of(d);
    if (type == "broadcast") {
        if (keys != std::set<std::string>{"version", "msg_type", "source_instance", "data"}) problem("broadcast keys");
        if (!d["source_instance"].is_string()) problem("source_instance is not a string");
        if (!d["data"].is_string() || d["data"].get<std::string>().size() > 3050)
            problem("payload not a string <= 3050");
    } else if (type == "notification") {
        if (keys != std::set<std::string>{"version", "msg_type", "data"}) problem("notification keys");
        if (!d["data"].is_object()) problem("notification data is not an object");
    } else if (type == "status_response") {
        if (keys != std::set<std::string>{"version", "msg_type", "seq", "data"}) problem("status_response keys");
        if (!is_int(d["seq"])) problem("seq is not an integer");
        if (!d["data"].is_object()) problem("status data is not an object");
    } else if (type == "status_response_done") {
        if (keys != std::set<std::string>{"version", "msg_type", "seq"}) problem("status_response_done keys");
        if (!is_int(d["seq"])) problem("seq is not an integer");
    } else if (type == "nack") {
        keys.erase("orig_msg_type");  // optional
        if (keys != std::set<std::string>{"version", "msg_type", "log_msg"}) problem("nack keys");
        if (!d["log_msg"].is_string()) problem("log_msg is not a string");
        if (d.contains("orig_msg_type") && !d["orig_msg_type"].is_string()) problem("orig_msg_type not a string");
    } else {
        problem("msg_type " + type + " is not one the host sends");
    }
    return problems;
}

// Same keys and value kinds as a legacy host line (the inner version excepted).
void expect_shape_of_legacy(const json& ours, const json& legacy) {
    EXPECT_EQ(keys_of(ours), keys_of(legacy));
    for (const auto& [k, v] : legacy.items()) {
        if (k != "data") {
            EXPECT_EQ(conformance::heartbeat::json_kind(ours[k]), conformance::heartbeat::json_kind(v)) << k;
        }
    }
    EXPECT_EQ(keys_of(ours["data"]), keys_of(legacy["data"]));
    for (const auto& [k, v] : legacy["data"].items()) {
        if (k != "version") {
            EXPECT_EQ(conformance::heartbeat::json_kind(ours["data"][k]), conformance::heartbeat::json_kind(v)) << k;
        }
    }
}

class ServerGroupHostConformance : public ::testing::Test {
protected:
    void SetUp() override {
        json vms = json::array();
        for (int i = 1; i <= 3; ++i) {
            std::string vm = "instance-0000000" + std::to_string(i);
            guests.push_back(std::make_unique<MessagingGuest>(dir.file(vm + ".msg")));
            guests.back()->listen();
            vms.push_back({{"name", vm},
                           {"heartbeat", "unix:" + dir.file(vm + ".hb")},  // nobody there: no session
                           {"messaging", "unix:" + dir.file(vm + ".msg")},
                           {"executor", {{"type", "command"}, {"argv", {dir.file("executor.sh")}}}}});
        }
        marker_script(dir, dir.file("marker"));
        json config = {
            {"control_socket", dir.file("control.sock")},
            {"vms", vms},
            {"server_groups",
             {{{"name", "ha"}, {"members", {"instance-00000001", "instance-00000002", "instance-00000003"}}}}}};
        write_file(dir.file("vmhostd.json"), config.dump());
        ASSERT_TRUE(daemon.start(dir.file("vmhostd.json"), dir.file("control.sock"), dir.file("vmhostd.log")));
        for (auto& g : guests) ASSERT_TRUE(g->accept(kPatience)) << daemon.log();
    }
    void TearDown() override {
        if (daemon.running()) {
            EXPECT_EQ(daemon.stop(), 0);
        }
        if (HasFailure()) std::fprintf(stderr, "---- vmhostd log ----\n%s\n", daemon.log().c_str());
    }

    TempDir dir;
    VmhostdProcess daemon;
    std::vector<std::unique_ptr<MessagingGuest>> guests;
};

TEST_F(ServerGroupHostConformance, EveryLineTheHostWritesFollowsTheProtocol) {
    // The legacy guest's own lines, verbatim: a broadcast and a status query.
    auto legacy_guest = legacy_lines(true);
    int sent = 0;
    for (const auto& l : legacy_guest) {
        if (l["dest_addr"] != "cgcs.server_grp") continue;  // scaling lines: not the relay's
        guests[0]->send_raw(l.dump() + "\n");               // framed {...}\n, as some senders do
        ++sent;
    }
    ASSERT_EQ(sent, 2);
    auto b = guests[1]->next_of("broadcast", kPatience);
    ASSERT_TRUE(b) << "the legacy guest's broadcast was not relayed";
    EXPECT_EQ((*b)["data"]["data"], "hello world");
    EXPECT_EQ((*b)["data"]["source_instance"], "instance-00000001");
    auto done = guests[0]->next_of("status_response_done", kPatience);
    ASSERT_TRUE(done) << "the legacy guest's status query was not answered";
    EXPECT_EQ((*done)["data"]["seq"], 1);

    // The rest of what the host sends: a notification (a host action), a nack.
    auto r =
        run_command({vmhostctl_path(), "--socket", dir.file("control.sock"), "action", "instance-00000003", "pause"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(guests[0]->next_of("notification", kPatience));
    guests[1]->send_raw("{\"bad\"\n");
    ASSERT_TRUE(guests[1]->next_of("nack", kPatience));
    guests[2]->send_raw(
        "\n" + json{{"version", 2}, {"dest_addr", "cgcs.server_grp"}, {"data", {{"msg_type", "x"}}}}.dump() + "\n");
    ASSERT_TRUE(guests[2]->next_of("nack", kPatience));
    guests[2]->broadcast("\xE2\x82\xAC \"\\\n");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(guests[i]->sync(10 + i, kPatience));

    std::set<std::string> types;
    const json legacy_broadcast = [] {
        for (const auto& l : legacy_lines(false))
            if (l["dest_addr"] == "cgcs.server_grp") return l;
        return json();
    }();
    ASSERT_FALSE(legacy_broadcast.is_null());
    for (const auto& g : guests) {
        // Framing: "{...}\n" per line, as the real host writes; never a blank line.
        const std::string& bytes = g->raw_bytes();
        ASSERT_FALSE(bytes.empty());
        EXPECT_EQ(bytes.front(), '{');
        EXPECT_EQ(bytes.back(), '\n');
        EXPECT_EQ(bytes.find("\n\n"), std::string::npos);
        for (const auto& raw : g->raw_lines()) {
            auto line = json::parse(raw, nullptr, false);
            ASSERT_FALSE(line.is_discarded()) << raw;
            for (const auto& p : check_host_line(line)) ADD_FAILURE() << p;
            // And the shared schema of the messaging facts.
            for (const auto& p :
                 conformance::messaging::check_line(line, conformance::messaging::Direction::HostToGuest))
                ADD_FAILURE() << p;
            std::string type = msg_type_of(line);
            types.insert(type);
            if (type == "broadcast") expect_shape_of_legacy(line, legacy_broadcast);
        }
    }
    EXPECT_EQ(types,
              (std::set<std::string>{"broadcast", "notification", "status_response", "status_response_done", "nack"}));
}

}  // namespace
