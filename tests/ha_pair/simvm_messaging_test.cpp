// tools/simvm with messaging: each simulated VM runs server-groupd on its
// cgcs.messaging socket, vmhostd relays between the VMs of a server group,
// and the VM's applications find the daemon by themselves.
#include <gtest/gtest.h>

#include <thread>

#include "simulated_host.h"

using namespace gsdk::test;
using namespace std::chrono_literals;

namespace {

std::string hex(const std::string& text) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Until the file holds `text` somewhere after the first `marker`.
bool wait_for_text_after(const std::string& path, const std::string& marker, const std::string& text,
                         std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    do {
        std::string log = read_file(path);
        auto at = log.find(marker);
        if (at != std::string::npos && log.find(text, at + marker.size()) != std::string::npos) return true;
        std::this_thread::sleep_for(50ms);
    } while (std::chrono::steady_clock::now() < end);
    return false;
}

class SimvmMessaging : public ::testing::Test {
protected:
    SimulatedHost host;
    Subprocess sender;

    void SetUp() override {
        // The listener in vm-2 is one of its applications: it is given no
        // socket path and finds server-groupd through the VM's environment.
        ASSERT_TRUE(host.start({{"vm-1", {}}, {"vm-2", {SG_PROBE}}})) << host.why() << host.diagnostics();
        ASSERT_TRUE(wait_for_text(listener_log(), "\"up\":true", 10s)) << read_file(listener_log());
    }

    std::string listener_log() const { return host.vm_dir("vm-2") + "/app-app.log"; }

    // A process of vm-1 (on the VM's client socket) that broadcasts flood-0..N-1.
    void broadcast_from_vm1(int count) {
        sender.stop();
        sender.start(
            {SG_PROBE, "--socket", host.vm_dir("vm-1") + "/server-group/client.sock", "--flood", std::to_string(count)},
            host.file("sender.log"));
        ASSERT_TRUE(wait_for_text(host.file("sender.log"), "flood_done", 20s)) << read_file(host.file("sender.log"));
    }

    void TearDown() override {
        if (HasFailure()) std::fprintf(stderr, "%s\n", host.diagnostics().c_str());
    }
};

}  // namespace

TEST_F(SimvmMessaging, BroadcastFromOneVmReachesTheApplicationOfTheOther) {
    broadcast_from_vm1(3);
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(wait_for_text(listener_log(), "\"hex\":\"" + hex("flood-" + std::to_string(i)) + "\"", 10s))
            << read_file(listener_log());
    EXPECT_NE(read_file(listener_log()).find("\"source\":\"vm-1\""), std::string::npos) << read_file(listener_log());
    auto group = host.group_show();
    ASSERT_TRUE(group.is_object()) << group;
    for (const auto& m : group["members"]) EXPECT_EQ(m.value("messaging", ""), "connected") << group.dump(1);
}

TEST_F(SimvmMessaging, MessagingDaemonIsRespawnedAndTheVmIsReachedAgain) {
    ASSERT_EQ(host.simvm({"restart-daemon", host.root(), "vm-2", "messaging"}), 0);
    // The application's library reconnects by itself; the host reconnects too.
    ASSERT_TRUE(wait_for_text(listener_log(), "\"up\":false", 10s)) << read_file(listener_log());
    ASSERT_TRUE(host.wait_until_up("vm-2", 20s)) << host.ctl({"list"});
    ASSERT_TRUE(wait_for_text_after(listener_log(), "\"up\":false", "\"up\":true", 20s)) << read_file(listener_log());
    broadcast_from_vm1(1);
    EXPECT_TRUE(wait_for_text(listener_log(), "\"hex\":\"" + hex("flood-0") + "\"", 10s)) << read_file(listener_log());
}

TEST_F(SimvmMessaging, PowerOffIsSeenByTheHostAndStartBringsMessagingBack) {
    ASSERT_EQ(host.simvm({"stop", host.root(), "vm-1"}), 0);
    auto disconnected = [&] {
        auto group = host.group_show();
        if (!group.is_object()) return false;
        for (const auto& m : group["members"])
            if (m.value("vm", "") == "vm-1") return m.value("messaging", "") == "disconnected";
        return false;
    };
    bool seen = false;
    for (int i = 0; i < 100 && !(seen = disconnected()); ++i) std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(seen) << host.group_show().dump(1);
    ASSERT_EQ(host.simvm({"start", host.root(), "vm-1"}), 0);
    EXPECT_TRUE(host.wait_until_up("vm-1", 20s)) << host.ctl({"list"});
}
