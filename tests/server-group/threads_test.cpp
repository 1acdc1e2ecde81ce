// The modern API's threading contract: any thread may call any function;
// callbacks run in the processing thread with no library lock held, so they
// may call back in, except to process their own client.
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <set>
#include <thread>

#include "sg_fixture.h"

namespace gsdk::test {
namespace {

class ThreadsTest : public ServerGroupTest {};

TEST_F(ThreadsTest, ThreadsShareOneClientWhileAnotherProcesses) {
    extra_config = "BROADCAST_RATE=100000\nBROADCAST_BURST=100000\n";
    start_daemon();
    connect_host();
    auto m = joined_member();
    constexpr int kThreads = 4, kEach = 100;
    std::atomic<bool> done{false};
    std::thread processor([&] {
        while (!done) m->pump_for(std::chrono::milliseconds(20));
    });
    std::vector<std::thread> senders;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t)
        senders.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                std::string p = "t" + std::to_string(t) + "-" + std::to_string(i);
                int rc;
                while ((rc = sg_client_broadcast(m->client(), p.data(), p.size())) == -ENOBUFS)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                if (rc != 0) ++failures;
            }
        });
    for (auto& s : senders) s.join();
    std::vector<int> next(kThreads, 0);
    for (int n = 0; n < kThreads * kEach; ++n) {
        auto line = host_receive_group("broadcast");
        ASSERT_TRUE(line) << n;
        std::string p = (*line)["data"]["data"];
        int t = p[1] - '0';
        ASSERT_TRUE(t >= 0 && t < kThreads) << p;
        EXPECT_EQ("t" + std::to_string(t) + "-" + std::to_string(next[t]++), p) << "each thread's order kept";
    }
    done = true;
    processor.join();
    EXPECT_EQ(0, failures.load());
}

struct Echo {
    sg_client* client = nullptr;
    int process_from_callback = 0;
    int broadcast_from_callback = 1;
};

TEST_F(ThreadsTest, CallbacksMayCallBackInButNotProcessThemselves) {
    start_daemon();
    connect_host();
    Echo echo;
    sg_callbacks cb{};
    cb.broadcast = [](sg_client* c, const char*, const void*, size_t, void* user) {
        auto* e = static_cast<Echo*>(user);
        e->process_from_callback = sg_client_process(c);
        e->broadcast_from_callback = sg_client_broadcast(c, "pong", 4);
    };
    ASSERT_EQ(0, sg_client_new(&echo.client, &cb, &echo, client_socket().c_str()));
    host_broadcast("instance-00000002", "ping");
    auto line = std::optional<nlohmann::json>();
    for (int i = 0; i < 500 && echo.broadcast_from_callback != 0; ++i) {
        pollfd p{sg_client_fd(echo.client), POLLIN, 0};
        ::poll(&p, 1, 20);
        sg_client_process(echo.client);
    }
    EXPECT_EQ(-EDEADLK, echo.process_from_callback);
    EXPECT_EQ(0, echo.broadcast_from_callback);
    line = host_receive_group("broadcast");
    ASSERT_TRUE(line);
    EXPECT_EQ("pong", (*line)["data"]["data"]);
    sg_client_free(echo.client);
}

}  // namespace
}  // namespace gsdk::test
