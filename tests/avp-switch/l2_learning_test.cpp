// Ports outside any pair form one L2 learning domain.
#include <gtest/gtest.h>

#include "switch_process.hpp"
#include "test_guest.hpp"

using namespace avptest;

namespace {

const uint8_t kMacA[6] = {0x02, 0, 0, 0, 0, 0xa};
const uint8_t kMacB[6] = {0x02, 0, 0, 0, 0, 0xb};
const uint8_t kMacC[6] = {0x02, 0, 0, 0, 0, 0xc};
const uint8_t kUnknown[6] = {0x02, 0, 0, 0, 0, 0xf};
const uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct Domain : ::testing::Test {
    SwitchProcess sw{{"--port", "a,profile=file,path=" + shm_path("a") + ",buffers=512,fifo_len=128", "--port",
                      "b,profile=file,path=" + shm_path("b") + ",buffers=512,fifo_len=128", "--port",
                      "c,profile=ivshmem,path=" + shm_path("c") + ",buffers=512,fifo_len=128"}};
    TestGuest a{shm_path("a")}, b{shm_path("b")}, c{shm_path("c")};

    void SetUp() override {
        ASSERT_TRUE(sw.ok()) << sw.log();
        for (TestGuest* g : {&a, &b, &c}) {
            ASSERT_EQ(g->load(), "");
            ASSERT_EQ(g->configure(true), 0);
        }
    }
};

}  // namespace

TEST_F(Domain, BroadcastFloodsUnicastFollowsLearnedAddresses) {
    auto hello = make_frame(80, 1, kBroadcast, kMacA);
    ASSERT_TRUE(a.send(hello));
    auto gb = b.receive(), gc = c.receive();
    ASSERT_TRUE(gb);
    ASSERT_TRUE(gc);
    EXPECT_EQ(gb->bytes, hello);
    EXPECT_EQ(gc->bytes, hello);
    EXPECT_FALSE(a.receive(200)) << "a frame must not come back to its sender";

    // b answers a: a was learned on port a, so c sees nothing.
    auto reply = make_frame(90, 2, kMacA, kMacB);
    ASSERT_TRUE(b.send(reply));
    auto ga = a.receive();
    ASSERT_TRUE(ga);
    EXPECT_EQ(ga->bytes, reply);
    EXPECT_FALSE(c.receive(300));

    // Now b is known too: a -> b goes to b only.
    auto direct = make_frame(1500, 3, kMacB, kMacA);
    ASSERT_TRUE(a.send(direct));
    gb = b.receive();
    ASSERT_TRUE(gb);
    EXPECT_EQ(gb->bytes, direct);
    EXPECT_FALSE(c.receive(300));
}

TEST_F(Domain, UnknownUnicastIsFloodedUntilTheStationSpeaks) {
    auto f = make_frame(64, 4, kUnknown, kMacA);
    ASSERT_TRUE(a.send(f));
    ASSERT_TRUE(b.receive());
    ASSERT_TRUE(c.receive());

    // The unknown station turns out to live behind c.
    ASSERT_TRUE(c.send(make_frame(64, 5, kMacA, kUnknown)));
    ASSERT_TRUE(a.receive());
    ASSERT_TRUE(a.send(make_frame(64, 6, kUnknown, kMacA)));
    auto got = c.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->bytes, make_frame(64, 6, kUnknown, kMacA));
    EXPECT_FALSE(b.receive(300));
}

TEST_F(Domain, AStationThatMovesIsRelearned) {
    ASSERT_TRUE(b.send(make_frame(64, 1, kBroadcast, kMacC)));  // "C" first seen on b
    ASSERT_TRUE(a.receive());
    ASSERT_TRUE(c.receive());
    ASSERT_TRUE(c.send(make_frame(64, 2, kBroadcast, kMacC)));  // then on c
    ASSERT_TRUE(a.receive());
    ASSERT_TRUE(b.receive());
    ASSERT_TRUE(a.send(make_frame(64, 3, kMacC, kMacA)));
    EXPECT_TRUE(c.receive());
    EXPECT_FALSE(b.receive(300));
}
