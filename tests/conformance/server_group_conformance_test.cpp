// Conformance of server-groupd on cgcs.messaging: every line it writes is
// framed "\n{...}\n" and has the keys and value types of the legacy guest's
// lines of the same kind (data/messaging.jsonl), and everything the legacy
// host sent is accepted and delivered. Checked against the protocol facts
// directly (envelope v2, the server-group layer, the scaling reply).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "gsdk/unix_socket.h"
#include "local_service_ipc.pb.h"
#include "messaging_envelope.h"
#include "original_library_socket.h"
#include "server_group_layer.h"
#include "sg_fixture.h"

namespace gsdk::test {
namespace {

using nlohmann::json;
using namespace std::chrono;

const std::string kData = std::string(CONFORMANCE_DIR) + "/data/messaging.jsonl";

std::vector<json> legacy_lines(const std::string& dir) {
    std::ifstream in(kData);
    EXPECT_TRUE(in) << kData;
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) continue;
        json j = json::parse(line);
        if (j["dir"] == dir) out.push_back(j["line"]);
    }
    return out;
}

// What a reader of the line sees of a value: its JSON kind.
std::string kind_of(const json& v) {
    if (v.is_number_integer()) return "integer";
    if (v.is_number()) return "number";
    return v.type_name();
}

// Same keys and value kinds, recursively through objects; arrays by their elements' kinds.
void expect_same_shape(const json& ours, const json& legacy, const std::string& where) {
    ASSERT_EQ(kind_of(legacy), kind_of(ours)) << where;
    if (legacy.is_object()) {
        std::set<std::string> a, b;
        for (const auto& [k, v] : ours.items()) a.insert(k);
        for (const auto& [k, v] : legacy.items()) b.insert(k);
        EXPECT_EQ(b, a) << where << ": keys differ";
        for (const auto& [k, v] : legacy.items())
            if (ours.contains(k)) expect_same_shape(ours[k], v, where + "." + k);
    } else if (legacy.is_array() && !legacy.empty() && !ours.empty()) {
        for (const auto& e : ours) expect_same_shape(e, legacy[0], where + "[]");
    }
}

// The legacy guest line of a kind: the server-group msg_type, or "scale_response".
json legacy_line_of(const std::string& kind) {
    for (const auto& l : legacy_lines("guest->host")) {
        if (l["dest_addr"] == "cgcs.server_grp" && l["data"].value("msg_type", "") == kind) return l;
        if (kind == "scale_response" && l["source_addr"] == "cgcs.scale") return l;
    }
    ADD_FAILURE() << "no legacy line for " << kind;
    return json::object();
}

// The host end, reading raw bytes so that the framing itself is checked.
class RawHost {
public:
    ~RawHost() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool connect(const std::string& path) {
        for (int i = 0; i < 500 && fd_ < 0; ++i) {
            fd_ = unix_stream_connect(path);
            if (fd_ < 0) std::this_thread::sleep_for(10ms);
        }
        return fd_ >= 0;
    }
    void send(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
    // Reads until `count` complete "\n{...}\n" messages have come.
    std::vector<std::string> read_messages(std::size_t count, milliseconds timeout = 5s) {
        auto end = steady_clock::now() + timeout;
        while (complete_messages() < count && steady_clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[65536];
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) break;
            raw_.append(buf, static_cast<std::size_t>(n));
        }
        std::vector<std::string> out;
        std::size_t at = 0;
        while (out.size() < count && at < raw_.size()) {
            // Each message: a newline, the JSON, a newline; nothing between messages.
            if (raw_[at] != '\n') {
                ADD_FAILURE() << "a message does not start with a newline at byte " << at;
                break;
            }
            std::size_t end_nl = raw_.find('\n', at + 1);
            if (end_nl == std::string::npos) break;
            out.push_back(raw_.substr(at + 1, end_nl - at - 1));
            at = end_nl + 1;
        }
        raw_.erase(0, at);
        return out;
    }

private:
    std::size_t complete_messages() const {
        std::size_t n = 0, at = 0;
        while (at < raw_.size() && raw_[at] == '\n') {
            std::size_t end_nl = raw_.find('\n', at + 1);
            if (end_nl == std::string::npos) break;
            ++n;
            at = end_nl + 1;
        }
        return n;
    }
    int fd_ = -1;
    std::string raw_;
};

class ServerGroupConformance : public ServerGroupTest {
protected:
    RawHost raw;
    // A local service holding cgcs.scale, on a raw socket.
    void claim_scale(int* fd) {
        *fd = seqpacket_connect(service_socket());
        ASSERT_GE(*fd, 0);
        gsdk::server_group::service::ServiceMessage claim;
        claim.mutable_claim()->set_address("cgcs.scale");
        std::string bytes = claim.SerializeAsString();
        seqpacket_send(*fd, bytes.data(), bytes.size());
        ASSERT_TRUE(wait_for_text(daemon_log(), "serves cgcs.scale", 5s));
    }
    void connect_raw_host() {
        ASSERT_TRUE(raw.connect(host_socket()));
        ASSERT_TRUE(wait_for_text(daemon_log(), "host connected on", 10s));
    }
};

TEST(ServerGroupWireFacts, EveryLegacyHostLineDecodes) {
    auto lines = legacy_lines("host->guest");
    ASSERT_FALSE(lines.empty());
    for (const auto& l : lines) {
        auto e = sgwire::decode_envelope(l, sgwire::Origin::Host);
        ASSERT_TRUE(std::holds_alternative<sgwire::Envelope>(e)) << l;
        const auto& env = std::get<sgwire::Envelope>(e);
        if (env.dest_addr == "cgcs.server_grp") {
            EXPECT_TRUE(std::holds_alternative<sgwire::HostGroupMessage>(sgwire::decode_host_message(env.data))) << l;
        }
    }
}

TEST(ServerGroupWireFacts, LegacyGuestLinesAreWhatOurEncodersWrite) {
    for (const auto& l : legacy_lines("guest->host")) {
        if (l["dest_addr"] != "cgcs.server_grp") continue;
        auto m = sgwire::decode_guest_message(l["data"]);
        ASSERT_TRUE(std::holds_alternative<sgwire::GuestGroupMessage>(m)) << l;
        json ours = sgwire::encode_envelope(
            {l["source_addr"], l["dest_addr"], sgwire::encode_guest_message(std::get<sgwire::GuestGroupMessage>(m))});
        EXPECT_EQ(l, ours) << "same keys, types and values";
    }
}

TEST_F(ServerGroupConformance, EveryLineTheDaemonWritesHasTheLegacyShape) {
    if (!own_network) GTEST_SKIP() << "no private network namespace for the original library's names";
    start_daemon();
    connect_raw_host();
    auto m = joined_member();
    OriginalLibrarySocket original;
    ASSERT_TRUE(original.bound());

    // One action at a time, each line read before the next, so their order is known.
    std::vector<std::string> lines;
    auto next_line = [&] {
        auto got = raw.read_messages(1);
        if (got.size() == 1) lines.push_back(got[0]);
        return got.size() == 1;
    };
    std::string payload = "hello world";
    ASSERT_EQ(0, sg_client_broadcast(m->client(), payload.data(), payload.size()));
    ASSERT_TRUE(next_line());
    ASSERT_GT(sg_client_request_status(m->client(), 0), 0);
    ASSERT_TRUE(next_line());
    ASSERT_EQ(0, original.send(OriginalLibrarySocket::broadcast_text("from the original")));
    ASSERT_TRUE(next_line());
    // The original library's status query starts a round of its own once the first is done.
    json query = json::parse(lines[1]);
    raw.send(json{{"version", 2},
                  {"source_addr", "cgcs.server_grp"},
                  {"dest_addr", "cgcs.server_grp"},
                  {"data", {{"msg_type", "status_response_done"}, {"seq", query["data"]["seq"]}}}}
                 .dump() +
             "\n");
    ASSERT_TRUE(m->pump_until([&] { return !m->statuses.empty(); }));
    ASSERT_EQ(0, original.send(OriginalLibrarySocket::status_query_text(1)));
    ASSERT_TRUE(next_line());

    int fd = -1;
    ASSERT_NO_FATAL_FAILURE(claim_scale(&fd));
    namespace service = gsdk::server_group::service;
    service::ServiceMessage reply;
    reply.mutable_send()->set_dest_addr("scale-00000002");
    reply.mutable_send()->set_data_json(R"({"result":"success","offline_cpu":3,"online_cpus":[0,1,2],"version":2,)"
                                        R"("resource":"cpu","direction":"down"})");
    std::string bytes = reply.SerializeAsString();
    seqpacket_send(fd, bytes.data(), bytes.size());
    ASSERT_TRUE(next_line());
    ::close(fd);

    const char* kinds[] = {"broadcast", "status_query", "broadcast", "status_query", "scale_response"};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        json ours = json::parse(lines[i]);
        // Facts: envelope version 2 (an integer), addresses of at most 16 bytes, data a nested object.
        EXPECT_EQ(2, ours["version"]);
        EXPECT_TRUE(ours["version"].is_number_integer());
        EXPECT_LE(ours["source_addr"].get<std::string>().size(), 16u);
        EXPECT_LE(ours["dest_addr"].get<std::string>().size(), 16u);
        EXPECT_TRUE(ours["data"].is_object()) << lines[i];
        expect_same_shape(ours, legacy_line_of(kinds[i]), std::string(kinds[i]) + " #" + std::to_string(i));
    }
    EXPECT_EQ("hello world", json::parse(lines[0])["data"]["data"]);
    EXPECT_EQ("from the original", json::parse(lines[2])["data"]["data"]);
    EXPECT_EQ("scale-00000002", json::parse(lines[4])["dest_addr"]);
    EXPECT_EQ("cgcs.scale", json::parse(lines[4])["source_addr"]);
}

TEST_F(ServerGroupConformance, EveryLegacyHostLineIsDeliveredWhateverItsFraming) {
    start_daemon();
    connect_raw_host();
    auto m = joined_member();
    int fd = -1;
    ASSERT_NO_FATAL_FAILURE(claim_scale(&fd));
    namespace service = gsdk::server_group::service;

    // The real host's framing: "{...}\n", the bytes in two writes.
    for (const auto& l : legacy_lines("host->guest")) {
        std::string text = l.dump() + "\n";
        raw.send(text.substr(0, 7));
        std::this_thread::sleep_for(2ms);
        raw.send(text.substr(7));
    }
    ASSERT_TRUE(m->pump_until([&] { return !m->broadcasts.empty(); }));
    EXPECT_EQ("hello back", m->broadcasts[0].payload);
    EXPECT_EQ("instance-00000002", m->broadcasts[0].source);

    char buf[65536];
    long n = -EAGAIN;
    for (int i = 0; i < 500 && n == -EAGAIN; ++i) {
        n = seqpacket_receive(fd, buf, sizeof buf);
        if (n == -EAGAIN) std::this_thread::sleep_for(10ms);
        if (n > 0) {
            service::RelayMessage r;
            ASSERT_TRUE(r.ParseFromArray(buf, static_cast<int>(n)));
            if (r.body_case() != service::RelayMessage::kDeliver) {
                n = -EAGAIN;  // a host-link notice
            } else {
                EXPECT_EQ("scale-00000002", r.deliver().source_addr());
                EXPECT_EQ("scale_request", json::parse(r.deliver().data_json())["msg_type"]);
            }
        }
    }
    EXPECT_GT(n, 0) << "the scale request reached the service";
    ::close(fd);
}

}  // namespace
}  // namespace gsdk::test
