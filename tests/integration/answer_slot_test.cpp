// Answer slots against the real guest-heartbeatd: the library's shared-memory
// answers keep an application healthy, a hang is still a hang, and a client
// that abuses its slot fools nobody and crashes nothing.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <thread>

#include "answer_slot.h"
#include "gsdk/unix_socket.h"
#include "guest_fixture.h"
#include "heartbeat_ipc.pb.h"

using namespace gsdk::test;
using namespace std::chrono_literals;
namespace ipc = gsdk::heartbeat::ipc;

namespace {

int64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A registration made by hand, so that the test decides what goes into the slot.
class RawApplication {
public:
    ~RawApplication() {
        stop_answering();
        if (slot_) munmap(slot_, ipc::kAnswerSlotBytes);
        if (slot_fd_ >= 0) close(slot_fd_);
        if (fd_ >= 0) close(fd_);
    }

    // Registers and keeps the slot's descriptor; false on any failure.
    bool register_with_slot(const std::string& socket, const std::string& name, uint32_t interval_ms) {
        fd_ = gsdk::seqpacket_connect(socket);
        if (fd_ < 0) return false;
        ipc::ClientMessage reg;
        reg.mutable_register_()->set_application_name(name);
        reg.mutable_register_()->set_heartbeat_interval_ms(interval_ms);
        reg.mutable_register_()->set_corrective_action(ipc::ACTION_REBOOT);
        reg.mutable_register_()->set_answer_slot(true);
        std::string bytes = reg.SerializeAsString();
        if (gsdk::seqpacket_send(fd_, bytes.data(), bytes.size()) < 0) return false;
        for (int i = 0; i < 500; ++i) {
            char buf[256];
            long n = gsdk::seqpacket_receive_with_fd(fd_, buf, sizeof buf, &slot_fd_);
            if (n == -EAGAIN) {
                std::this_thread::sleep_for(10ms);
                continue;
            }
            ipc::DaemonMessage reply;
            if (n <= 0 || !reply.ParseFromArray(buf, static_cast<int>(n)) || !reply.has_register_result()) return false;
            result_ = reply.register_result();
            break;
        }
        if (!result_.accepted() || !result_.answer_slot() || slot_fd_ < 0) return false;
        void* map = mmap(nullptr, ipc::kAnswerSlotBytes, PROT_READ | PROT_WRITE, MAP_SHARED, slot_fd_, 0);
        if (map == MAP_FAILED) return false;
        slot_ = static_cast<ipc::AnswerSlot*>(map);
        return true;
    }

    // Answers every challenge that arrives healthy, through the slot only.
    void answer_through_the_slot() {
        answering_ = true;
        answerer_ = std::thread([this] {
            while (answering_) {
                char buf[256];
                long n = gsdk::seqpacket_receive(fd_, buf, sizeof buf);
                ipc::DaemonMessage msg;
                if (n > 0 && msg.ParseFromArray(buf, static_cast<int>(n)) && msg.has_challenge()) {
                    ipc::publish_healthy_answer(*slot_, msg.challenge().challenge_id(), monotonic_ns());
                    ++answered_;
                } else {
                    std::this_thread::sleep_for(5ms);
                }
            }
        });
    }
    void stop_answering() {
        answering_ = false;
        if (answerer_.joinable()) answerer_.join();
    }

    int slot_fd() const { return slot_fd_; }
    ipc::AnswerSlot& slot() { return *slot_; }
    int answered() const { return answered_; }

private:
    int fd_ = -1;
    int slot_fd_ = -1;
    ipc::AnswerSlot* slot_ = nullptr;
    ipc::RegisterResult result_;
    std::atomic<bool> answering_{false};
    std::atomic<int> answered_{0};
    std::thread answerer_;
};

class AnswerSlots : public GuestFixture {};

}  // namespace

TEST_F(AnswerSlots, TheLibraryAnswersThroughItsSlotUnlessToldNotTo) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("by-slot", 200);
    start_legacy_app("by-message", 200, "reboot", {}, {"GUEST_HEARTBEAT_ANSWER_SLOT=0"});
    EXPECT_TRUE(wait_for_text(daemon_log(), "application by-slot (pid", 10s));
    EXPECT_TRUE(wait_for_text(daemon_log(), "answers by answer slot", 10s));
    EXPECT_TRUE(wait_for_text(daemon_log(), "answers by message", 10s));
    // Both stay healthy over many intervals, whichever way they answer.
    ASSERT_FALSE(challenge_until([](const auto& r) {
                     return lists_application(r, "by-slot", "healthy") && lists_application(r, "by-message", "healthy");
                 }).is_null());
    EXPECT_TRUE(wait_for_text(app_log("by-slot"), "health check #10 -> healthy", 10s));
    for (int i = 0; i < 5; ++i) {
        auto r = challenge();
        EXPECT_TRUE(is_healthy(r)) << r.dump();
        std::this_thread::sleep_for(200ms);
    }
}

TEST_F(AnswerSlots, AnApplicationAnsweringThroughTheSlotThatHangsIsHungAndComesBack) {
    start_daemon();
    ASSERT_TRUE(handshake());
    start_legacy_app("vnf-a", 200, "stop");
    ASSERT_TRUE(wait_for_text(daemon_log(), "answers by answer slot", 10s));
    ASSERT_FALSE(challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); }).is_null());
    flag("vnf-a", "hang");
    auto r = challenge_until(is_unhealthy);
    ASSERT_FALSE(r.is_null());
    EXPECT_EQ(r["corrective_action"], "stop");
    EXPECT_NE(r["log_msg"].get<std::string>().find("not answering health checks (hung)"), std::string::npos);
    // Its answers resume through the slot, and the daemon takes them.
    unflag("vnf-a", "hang");
    EXPECT_FALSE(challenge_until([](const auto& r) { return lists_application(r, "vnf-a", "healthy"); }).is_null());
    EXPECT_TRUE(wait_for_text(daemon_log(), "application vnf-a answers again", 5s));
}

TEST_F(AnswerSlots, AClientAnsweringOnlyThroughTheSlotIsHealthyUntilItStops) {
    start_daemon();
    ASSERT_TRUE(handshake());
    RawApplication app;
    ASSERT_TRUE(app.register_with_slot(dir / "heartbeat.sock", "raw", 200));
    app.answer_through_the_slot();
    // Eight health checks and more answered through the slot alone (however
    // long a loaded machine takes for them): healthy only if they are taken.
    auto until = std::chrono::steady_clock::now() + 60s;
    while (app.answered() < 8 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
    ASSERT_GE(app.answered(), 8);
    auto r = challenge();
    EXPECT_TRUE(lists_application(r, "raw", "healthy")) << r.dump();
    app.stop_answering();
    r = challenge_until(is_unhealthy, 20);
    ASSERT_FALSE(r.is_null());
    EXPECT_TRUE(lists_application(r, "raw", "hung")) << r.dump();
}

TEST_F(AnswerSlots, ASlotCannotBeShrunkAndFalseAnswersProveNothing) {
    start_daemon();
    ASSERT_TRUE(handshake());
    RawApplication app;
    ASSERT_TRUE(app.register_with_slot(dir / "heartbeat.sock", "liar", 200));
    // Shrinking the file would fault the daemon's mapping: the seal refuses it.
    EXPECT_EQ(ftruncate(app.slot_fd(), 0), -1);
    EXPECT_EQ(errno, EPERM);
    // Ever newer ids the daemon never sent, timed now and in the future: none
    // of them answers a challenge.
    std::atomic<bool> lying{true};
    std::thread liar([&] {
        for (uint64_t id = uint64_t(1) << 62; lying; ++id) {
            ipc::publish_healthy_answer(app.slot(), id, monotonic_ns() + (id & 1) * int64_t(3600) * 1000000000);
            std::this_thread::sleep_for(10ms);
        }
    });
    auto r = challenge_until(is_unhealthy, 20);
    lying = false;
    liar.join();
    ASSERT_FALSE(r.is_null());
    EXPECT_TRUE(lists_application(r, "liar", "hung")) << r.dump();
    EXPECT_TRUE(daemon.running());
}
