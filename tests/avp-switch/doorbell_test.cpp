// ivshmem-doorbell: the switch plays QEMU's ivshmem server. A test client
// speaks QEMU's side of the protocol, maps the region it is handed, and
// checks which eventfds the switch writes and when.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>
#include <tuple>

#include "ivshmem_client.hpp"
#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

// Polls f every 10 ms for 5 s at most.
bool eventually(const std::function<bool()>& f) {
    for (int i = 0; i < 500; i++) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

struct Doorbell : ::testing::Test {
    std::string sock = tmp_path("doorbell.sock");
    SwitchProcess sw{{"--port", "a,profile=ivshmem,path=" + shm_path("a") + ",buffers=256,doorbell=" + sock, "--port",
                      "b,profile=file,path=" + shm_path("b") + ",buffers=256", "--pair", "a,b"}};
    IvshmemClient qemu;
    std::unique_ptr<TestGuest> a;
    TestGuest b{shm_path("b")};
    avp_irq_area* irq = nullptr;

    void SetUp() override {
        ASSERT_TRUE(sw.ok()) << sw.log();
        ASSERT_EQ(qemu.connect(sock), "");
        a = std::make_unique<TestGuest>(qemu.shm_path());
        ASSERT_EQ(a->load(), "") << "the region is mapped through the descriptor QEMU was sent";
        irq = a->irq();
        ASSERT_NE(irq, nullptr);
        ASSERT_EQ(qemu.read_vectors(irq->nb_vectors), "");
        ASSERT_EQ(b.load(), "");
        ASSERT_EQ(a->configure(true), 0);
        ASSERT_EQ(b.configure(true), 0);
    }
    // Waits until the switch has taken at least n control rings.
    bool rings_reach(uint64_t n) {
        return eventually([&] { return sw.port("a")["doorbell"]["ctrl_rings"].get<uint64_t>() >= n; });
    }
    // Waits until the switch reports `pid` as its doorbell client.
    bool client_is(int pid) {
        return eventually([&] { return sw.port("a")["doorbell"].value("client_pid", -1) == pid; });
    }
};

void arm(avp_irq_area* irq, uint32_t q) { __atomic_store_n(&irq->queue[q].armed, 1u, __ATOMIC_SEQ_CST); }

}  // namespace

TEST_F(Doorbell, HandshakeFollowsTheIvshmemServerProtocol) {
    EXPECT_EQ(qemu.version(), 0);
    EXPECT_GE(qemu.id(), 0);
    EXPECT_LE(qemu.id(), 65535);
    EXPECT_EQ(irq->nb_vectors, 1u + 4u) << "vector 0 for control, one per queue (4 offered)";
    EXPECT_EQ(qemu.vectors(), irq->nb_vectors);
    struct stat st {};
    ASSERT_EQ(::stat(sock.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto d = sw.port("a")["doorbell"];
    EXPECT_EQ(d["client_pid"], ::getpid());
    EXPECT_EQ(d["vectors"], 5);
    // The switch is a peer too: a guest rings its vector 0 to wake it, its
    // vector 1 to have a control request served.
    EXPECT_EQ(qemu.peer_vectors(0), 2u);
    EXPECT_NE(qemu.id(), 0);
    EXPECT_EQ(irq->wake_offered, 1u);
    EXPECT_EQ(irq->wake_doorbell, 0u << 16 | 0u) << "peer 0, vector 0";
    EXPECT_EQ(irq->ctrl_doorbell, 0u << 16 | 1u) << "peer 0, vector 1";
    // A port without a doorbell offers no interrupt area.
    EXPECT_EQ(b.header()->irq_offset, 0u);
}

TEST_F(Doorbell, AnArmedQueueGetsExactlyOneSignalAndAnUnarmedOneNone) {
    // Unarmed: frames arrive, no interrupt.
    for (uint32_t i = 0; i < 5; i++) ASSERT_TRUE(b.send(make_frame(200, i)));
    for (uint32_t i = 0; i < 5; i++) ASSERT_TRUE(a->receive()) << i;
    // Armed: the next frames raise vector 1 (queue 0) once, however many come.
    arm(irq, 0);
    for (uint32_t i = 5; i < 10; i++) ASSERT_TRUE(b.send(make_frame(200, i)));
    // One signal in all: any signal while unarmed would have been written
    // before this one (one forwarding thread) and show in the count.
    EXPECT_EQ(qemu.wait(1), 1u);
    for (uint32_t i = 5; i < 10; i++) ASSERT_TRUE(a->receive()) << i;
    EXPECT_EQ(__atomic_load_n(&irq->queue[0].armed, __ATOMIC_ACQUIRE), 0u) << "the host disarms when it signals";
    EXPECT_EQ(irq->queue[0].raised, 1u);
    for (uint32_t v = 2; v < qemu.vectors(); v++) EXPECT_EQ(qemu.take(v), 0u) << "vector " << v;
    // Re-armed, it fires again.
    arm(irq, 0);
    ASSERT_TRUE(b.send(make_frame(64, 99)));
    EXPECT_EQ(qemu.wait(1), 1u);
    EXPECT_EQ(sw.port("a")["doorbell"]["queue_signals"], 2);
}

TEST_F(Doorbell, BuffersReturnedToAllocRaiseTheQueueVector) {
    qemu.take(1);
    arm(irq, 0);
    // The guest transmits until the switch refills its alloc FIFO.
    for (uint32_t i = 0; i < 40; i++) ASSERT_TRUE(a->send(make_frame(64, i)));
    EXPECT_EQ(qemu.wait(1), 1u);
    for (uint32_t i = 0; i < 40; i++) ASSERT_TRUE(b.receive()) << i;
}

TEST_F(Doorbell, ControlResponsesAndMigrationRaiseVectorZero) {
    qemu.take(0);
    ASSERT_EQ(a->set_mtu(1500), 0);
    EXPECT_GE(qemu.wait(0), 1u) << "a control response";
    std::thread acker([&] {
        if (a->wait_status(AVP_MIGRATION_DETACHED)) a->ack(AVP_MIGRATION_DETACHED);
    });
    auto r = sw.ctl("migrate a detach 3000");
    acker.join();
    EXPECT_TRUE(r.value("ok", false)) << r.dump();
    EXPECT_GE(qemu.wait(0), 1u) << "a migration status change";
}

// The switch polls for control requests every 16 ms at most once it has
// been idle; a guest that rings has its request taken when the ring comes.
TEST_F(Doorbell, AGuestThatRingsHasItsControlRequestServedOnTheRing) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // idle: the switch polls slowly now
    EXPECT_EQ(sw.port("a")["doorbell"]["ctrl_rings"], 0) << "nobody rang yet";
    avp_request r{};
    r.req_id = AVP_REQ_CHANGE_MTU;
    r.new_mtu = 4000;
    EXPECT_EQ(a->request(r, 2000, [&] { ASSERT_TRUE(qemu.ring(0, 1)); }), 0);
    EXPECT_EQ(sw.port("a")["mtu"], 4000);
    EXPECT_TRUE(rings_reach(1)) << "the ring was taken";
    // Rings without a request, thousands of them, cost one look each rest
    // of the control loop (rings between two looks count once) and lose
    // nothing: the next request is answered all the same.
    for (int i = 0; i < 5000; i++) ASSERT_TRUE(qemu.ring(0, 1));
    r.new_mtu = 1500;
    EXPECT_EQ(a->request(r, 2000, [&] { ASSERT_TRUE(qemu.ring(0, 1)); }), 0);
    EXPECT_EQ(sw.port("a")["mtu"], 1500);
    EXPECT_TRUE(rings_reach(2));
    // A vector beyond the switch's two is not served: QEMU would refuse it.
    EXPECT_FALSE(qemu.ring(0, 2));
}

TEST_F(Doorbell, ASecondQemuIsRefusedAndAReconnectWorks) {
    IvshmemClient second;
    EXPECT_NE(second.connect(sock), "");
    EXPECT_NE(sw.log().find("refused a second QEMU"), std::string::npos) << sw.log();
    EXPECT_EQ(sw.port("a")["doorbell"]["refused"], 1);
    // The first QEMU goes away; the switch notices and takes the next one.
    int64_t first_id = qemu.id();
    qemu.close();
    ASSERT_TRUE(client_is(0)) << sw.log();
    IvshmemClient again;
    ASSERT_EQ(again.connect(sock), "");
    ASSERT_EQ(again.read_vectors(irq->nb_vectors), "");
    EXPECT_NE(again.id(), first_id);
    arm(irq, 0);
    ASSERT_TRUE(b.send(make_frame(300, 1)));
    EXPECT_EQ(again.wait(1), 1u) << "signals go to the new QEMU's eventfds";
    EXPECT_TRUE(a->receive());
    EXPECT_EQ(sw.port("a")["doorbell"]["connections"], 2);
}

TEST_F(Doorbell, AGuestArmedWhileNoQemuWasConnectedIsWokenOnConnect) {
    qemu.close();
    ASSERT_TRUE(client_is(0)) << sw.log();
    arm(irq, 2);
    IvshmemClient again;
    ASSERT_EQ(again.connect(sock), "");
    ASSERT_EQ(again.read_vectors(irq->nb_vectors), "");
    EXPECT_EQ(again.wait(3), 1u);
}

TEST_F(Doorbell, BytesFromQemuAreDroppedAndNothingStalls) {
    for (int i = 0; i < 64; i++) ASSERT_TRUE(qemu.send_junk(4096));
    EXPECT_EQ(a->set_mtu(1500), 0) << "guests are answered meanwhile";
    EXPECT_TRUE(sw.ctl("ports").value("ok", false));
    arm(irq, 0);
    ASSERT_TRUE(b.send(make_frame(128, 1)));
    EXPECT_EQ(qemu.wait(1), 1u) << "the connection stays and keeps working";
    EXPECT_EQ(sw.port("a")["doorbell"]["client_pid"], ::getpid());
}

TEST_F(Doorbell, OnlyRootOrTheSwitchUserMayConnect) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
    qemu.close();
    ASSERT_TRUE(client_is(0));
    ASSERT_EQ(::chmod(sock.c_str(), 0666), 0);  // so that the credential check is what refuses
    pid_t child = ::fork();
    if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
        IvshmemClient stranger;
        std::string e = stranger.connect(sock);
        ::_exit(e.find("closed") != std::string::npos ? 0 : 4);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_NE(sw.log().find("refused pid " + std::to_string(child) + " uid 65534"), std::string::npos) << sw.log();
    EXPECT_EQ(sw.port("a")["doorbell"]["connections"], 1) << "the stranger got no descriptors";
}

namespace {

// Two ivshmem-doorbell ports paired: guests that may promise to ring.
struct SleepingSwitch : ::testing::Test {
    std::string sock_a = tmp_path("ring-a.sock"), sock_b = tmp_path("ring-b.sock");
    SwitchProcess sw{{"--port", "a,profile=ivshmem,path=" + shm_path("ra") + ",buffers=256,doorbell=" + sock_a,
                      "--port", "b,profile=ivshmem,path=" + shm_path("rb") + ",buffers=256,doorbell=" + sock_b,
                      "--pair", "a,b"}};
    IvshmemClient qemu_a, qemu_b;
    std::unique_ptr<TestGuest> a, b;

    void SetUp() override {
        ASSERT_TRUE(sw.ok()) << sw.log();
        for (auto [q, g, sock] : {std::tuple{&qemu_a, &a, &sock_a}, std::tuple{&qemu_b, &b, &sock_b}}) {
            ASSERT_EQ(q->connect(*sock), "");
            *g = std::make_unique<TestGuest>(q->shm_path());
            ASSERT_EQ((*g)->load(), "");
            ASSERT_EQ(q->read_vectors((*g)->irq()->nb_vectors), "");
            ASSERT_EQ((*g)->configure(true), 0);
        }
    }
    static void promise(TestGuest& g) { __atomic_store_n(&g.irq()->guest_rings, 1u, __ATOMIC_SEQ_CST); }
    static uint32_t asleep(TestGuest& g) { return __atomic_load_n(&g.irq()->host_asleep, __ATOMIC_SEQ_CST); }
    // What the driver does after publishing: ring only a switch that sleeps.
    static bool ring_if_asleep(TestGuest& g, IvshmemClient& q) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_exchange_n(&g.irq()->host_asleep, 0u, __ATOMIC_SEQ_CST) == 0) return false;
        return q.ring(0, 0);
    }
};

}  // namespace

TEST_F(SleepingSwitch, GuestsThatRingLetItSleepAndARingBringsTheirFrame) {
    promise(*a);
    promise(*b);
    ASSERT_TRUE(eventually([&] { return asleep(*a) == 1 && asleep(*b) == 1; })) << "the idle switch sleeps";
    EXPECT_EQ(sw.port("a")["doorbell"]["guest_rings"], true);
    for (uint32_t i = 0; i < 20; i++) {
        ASSERT_TRUE(a->send(make_frame(300, i)));
        ring_if_asleep(*a, qemu_a);
        ASSERT_TRUE(b->receive()) << i;
        // The next frame finds it asleep again (or still spinning: no ring).
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_TRUE(eventually([&] { return sw.port("a")["doorbell"]["host_wakeups"].get<uint64_t>() >= 1; }))
        << "rings reached the switch through its peer eventfd";
    EXPECT_EQ(sw.port("b")["doorbell"]["host_wakeups"], 0) << "b never rang";
}

TEST_F(SleepingSwitch, AGuestThatDidNotPromiseKeepsTheSwitchPolling) {
    promise(*a);  // b's driver does not ring (an older one, or DPDK's)
    for (int i = 0; i < 30; i++) {
        ASSERT_EQ(asleep(*a), 0u) << "the switch never sleeps on a unit with a guest that does not ring";
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(b->send(make_frame(200, 7)));
    EXPECT_TRUE(a->receive()) << "b's frame is taken without any ring";
    EXPECT_EQ(sw.port("b")["doorbell"]["guest_rings"], false);
}

TEST_F(SleepingSwitch, AGuestThatPromisedAndDoesNotRingOnlyWaitsItself) {
    promise(*a);
    promise(*b);
    ASSERT_TRUE(eventually([&] { return asleep(*a) == 1; }));
    // No ring: the switch still looks every 10 ms at most.
    ASSERT_TRUE(a->send(make_frame(400, 1)));
    EXPECT_TRUE(b->receive());
    // Neither is anything lost when a guest rings a switch that is awake.
    for (int i = 0; i < 5; i++) ASSERT_TRUE(qemu_a.ring(0, 0));
    ASSERT_TRUE(b->send(make_frame(400, 2)));
    EXPECT_TRUE(a->receive());
}

TEST(DoorbellConfig, OnlyIvshmemPortsTakeADoorbell) {
    RunResult r = run_switch_cli({"run", "--socket", tmp_path("x.sock"), "--port",
                                  "a,profile=file,path=" + shm_path("x") + ",doorbell=" + tmp_path("d.sock")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("doorbell= needs profile=ivshmem"), std::string::npos) << r.err;
}
