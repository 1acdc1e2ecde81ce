// Conformance of vCPU scaling on cgcs.messaging, both ends:
// - guest: the real server-groupd and guest-scaled (fake sysfs tree) are sent
//   the captured host scale_request verbatim (framed as the reference host
//   frames it); the answer must pass the messaging schema, have the captured
//   answer's keys and value types, and go back to the request's source_addr.
// - host: the real vmhostd, asked by vmhostctl, must write a scale_request
//   that passes the schema and has the captured request's keys and types, and
//   must take the captured answer (re-addressed) as a success.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <set>

#include "host_test_support.h"
#include "messaging_guest.h"
#include "messaging_schema.h"
#include "test_process.h"
#include "transcript.h"

namespace {

using conformance::messaging::check_line;
using conformance::messaging::Direction;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kPatience = 20s;

// The captured scaling lines: (host request, guest answer).
std::pair<json, json> captured() {
    json request, answer;
    for (const auto& t : conformance::read_transcript("messaging")) {
        if (!t.line.is_object() || !t.line.contains("data") || !t.line["data"].is_object()) continue;
        if (!t.from_guest && t.line["dest_addr"] == "cgcs.scale") request = t.line;
        if (t.from_guest && t.line["source_addr"] == "cgcs.scale") answer = t.line;
    }
    return {request, answer};
}

// Same keys, and each value of the same JSON type (integers as integers).
std::string shape_difference(const json& ours, const json& reference, const std::string& where = "") {
    if (ours.type() != reference.type())
        return where + ": " + ours.type_name() + " where the reference has " + reference.type_name();
    if (!ours.is_object()) return "";
    std::set<std::string> a, b;
    for (const auto& [k, v] : ours.items()) a.insert(k);
    for (const auto& [k, v] : reference.items()) b.insert(k);
    if (a != b) return where + ": keys " + json(a).dump() + " where the reference has " + json(b).dump();
    for (const auto& k : a)
        if (auto d = shape_difference(ours[k], reference[k], where + "." + k); !d.empty()) return d;
    return "";
}

std::string problems_text(const std::vector<std::string>& problems) {
    std::string s;
    for (const auto& p : problems) s += p + "\n";
    return s;
}

TEST(ScaleConformance, TheCapturedLinesAreThereAndPassTheSchema) {
    auto [request, answer] = captured();
    ASSERT_TRUE(request.is_object()) << "no host scale_request in data/messaging.jsonl";
    ASSERT_TRUE(answer.is_object()) << "no guest scale answer in data/messaging.jsonl";
    EXPECT_TRUE(check_line(request, Direction::HostToGuest).empty())
        << problems_text(check_line(request, Direction::HostToGuest));
    EXPECT_TRUE(check_line(answer, Direction::GuestToHost).empty())
        << problems_text(check_line(answer, Direction::GuestToHost));
}

TEST(ScaleConformance, GuestAnswersTheCapturedRequestInTheCapturedShape) {
    auto [request, answer] = captured();
    ASSERT_TRUE(request.is_object() && answer.is_object());
    gsdk::test::TempDir dir;
    gsdk::test::write_file(dir.file("sg.conf"), "LEGACY_DATAGRAMS=no\nSOCKET_GROUP=\n");
    gsdk::test::write_file(dir.file("gs.conf"), "SOCKET_GROUP=\n");
    for (unsigned cpu = 0; cpu < 4; ++cpu) {
        std::string d = dir.file("sys/devices/system/cpu/cpu" + std::to_string(cpu));
        std::filesystem::create_directories(d);
        if (cpu) gsdk::test::write_file(d + "/online", "1\n");
    }
    gsdk::test::Subprocess sgd, gsd;
    sgd.start({SERVER_GROUPD, "--listen", "unix:" + dir.file("msg.sock"), "--config", dir.file("sg.conf"),
               "--socket-dir", dir.file("sg")},
              dir.file("server-groupd.log"));
    ASSERT_TRUE(gsdk::test::wait_for_path(dir.file("sg/services.sock"), kPatience));
    gsd.start({GUEST_SCALED, "--config", dir.file("gs.conf"), "--sysfs-root", dir.file("sys"), "--service-socket",
               dir.file("sg/services.sock"), "--socket-dir", dir.file("gs"), "--state-file", dir.file("state"),
               "--helper", ""},
              dir.file("guest-scaled.log"));
    ASSERT_TRUE(gsdk::test::wait_for_text(dir.file("server-groupd.log"), "serves cgcs.scale", kPatience));
    gsdk::test::JsonLinePeer host;
    ASSERT_TRUE(host.connect(dir.file("msg.sock")));
    // The reference host's framing: {...}\n, no leading newline.
    host.send_raw(request.dump() + "\n");
    auto reply = host.receive(kPatience);
    ASSERT_TRUE(reply) << gsdk::test::read_file(dir.file("guest-scaled.log"));
    EXPECT_TRUE(check_line(*reply, Direction::GuestToHost).empty())
        << problems_text(check_line(*reply, Direction::GuestToHost));
    EXPECT_EQ(shape_difference(*reply, answer), "") << reply->dump();
    EXPECT_EQ((*reply)["dest_addr"], request["source_addr"]);
    EXPECT_EQ((*reply)["data"]["offline_cpu"], 3);
    EXPECT_EQ((*reply)["data"]["online_cpus"], json({0, 1, 2}));
    // Framing of our side: "\n{...}\n".
    const std::string& bytes = host.bytes_received();
    EXPECT_TRUE(bytes.size() > 2 && bytes.front() == '\n' && bytes.back() == '\n');
}

TEST(ScaleConformance, HostSendsTheCapturedShapeAndTakesTheCapturedAnswer) {
    auto [request, answer] = captured();
    ASSERT_TRUE(request.is_object() && answer.is_object());
    gsdk::test::TempDir dir;
    hosttest::MessagingGuest guest(dir.file("vm.msg"));
    guest.listen();
    hosttest::marker_script(dir, dir.file("executor.marker"));
    json config = {{"control_socket", dir.file("control.sock")},
                   {"vms",
                    {{{"name", "vm"},
                      {"heartbeat", "unix:" + dir.file("vm.hb")},
                      {"messaging", "unix:" + dir.file("vm.msg")},
                      {"vcpus", 4},
                      {"min_vcpus", 1},
                      {"executor", {{"type", "command"}, {"argv", {dir.file("executor.sh")}}}}}}}};
    gsdk::test::write_file(dir.file("vmhostd.json"), config.dump());
    hosttest::VmhostdProcess vmhostd;
    ASSERT_TRUE(vmhostd.start(dir.file("vmhostd.json"), dir.file("control.sock"), dir.file("vmhostd.log")));
    ASSERT_TRUE(guest.accept(kPatience));
    gsdk::test::Subprocess ctl;
    ctl.start({VMHOSTCTL_PATH, "--socket", dir.file("control.sock"), "scale", "vm", "cpu", "down"},
              dir.file("vmhostctl.out"));
    auto line = guest.next(kPatience);
    ASSERT_TRUE(line) << vmhostd.log();
    EXPECT_TRUE(check_line(*line, Direction::HostToGuest).empty())
        << problems_text(check_line(*line, Direction::HostToGuest));
    EXPECT_EQ(shape_difference(*line, request), "") << line->dump();
    EXPECT_EQ((*line)["data"]["timeout_ms"], 9000);
    // The captured answer, sent back to the address this request came from.
    json reply = answer;
    reply["dest_addr"] = (*line)["source_addr"];
    guest.send_raw("\n" + reply.dump() + "\n");
    auto status = ctl.wait(kPatience);
    ASSERT_TRUE(status) << vmhostd.log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << gsdk::test::read_file(dir.file("vmhostctl.out"));
    EXPECT_NE(gsdk::test::read_file(dir.file("vmhostctl.out")).find("CPU 3 offline"), std::string::npos)
        << gsdk::test::read_file(dir.file("vmhostctl.out"));
}

}  // namespace
