// IpcServer's reading of a peer over a real SOCK_SEQPACKET socket: how many
// messages one wake-up takes, and a peer closed from inside its own message.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "gsdk/ipc_server.h"
#include "gsdk/unix_socket.h"
#include "host_channel_test_support.h"

using namespace gsdk;
using channel_test::spin_until;
using channel_test::temp_path;

namespace {

struct Served {
    EventLoop loop;
    std::vector<std::string> got;
    std::function<void(IpcPeer&, std::string_view)> on_message;
    IpcServer server{loop, IpcServer::Callbacks{nullptr,
                                                [this](IpcPeer& p, std::string_view m) {
                                                    got.emplace_back(m);
                                                    if (on_message) on_message(p, m);
                                                },
                                                nullptr}};
    int client = -1;

    // Listens, connects, and queues `count` messages before the loop runs again.
    void connect_and_queue(int count) {
        std::string path = temp_path("ipc.sock");
        ASSERT_EQ(server.listen(path), 0);
        client = seqpacket_connect(path);
        ASSERT_GE(client, 0);
        ASSERT_TRUE(spin_until(loop, [&] { return server.peer_count() == 1; }));
        for (int i = 0; i < count; ++i) {
            std::string m = "m" + std::to_string(i);
            ASSERT_EQ(seqpacket_send(client, m.data(), m.size()), 0);
        }
    }
    ~Served() {
        if (client >= 0) ::close(client);
    }
};

}  // namespace

TEST(IpcServer, ByDefaultOneMessageAWakeUp) {
    Served s;
    s.connect_and_queue(5);
    s.loop.run_once_nonblocking();
    EXPECT_EQ(s.got.size(), 1u);
    ASSERT_TRUE(spin_until(s.loop, [&] { return s.got.size() == 5; }));
    EXPECT_EQ(s.got.back(), "m4");
}

TEST(IpcServer, AStreamingPeerIsReadAsMuchAsAllowedInOneWakeUp) {
    Served s;
    s.server.set_messages_per_wakeup(16);
    s.connect_and_queue(20);
    s.loop.run_once_nonblocking();
    ASSERT_EQ(s.got.size(), 16u) << "not the 16 a wake-up may take";
    for (int i = 0; i < 16; ++i) EXPECT_EQ(s.got[i], "m" + std::to_string(i));
    s.loop.run_once_nonblocking();
    EXPECT_EQ(s.got.size(), 20u);
}

TEST(IpcServer, APeerClosedByItsOwnMessageIsReadNoFurther) {
    Served s;
    s.server.set_messages_per_wakeup(16);
    s.on_message = [](IpcPeer& p, std::string_view m) {
        if (m == "m2") p.close();
    };
    s.connect_and_queue(6);
    s.loop.run_once_nonblocking();
    EXPECT_EQ(s.got.size(), 3u);
    EXPECT_EQ(s.server.peer_count(), 0u);
    channel_test::turn(s.loop, 3);
    EXPECT_EQ(s.got.size(), 3u);
}
