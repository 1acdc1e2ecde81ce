// Helpers shared by the HostChannel tests: a loop driven by hand, and a
// recorder of the channel's callbacks.
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gsdk/event_loop.h"
#include "gsdk/host_channel.h"

namespace channel_test {

using gsdk::EventLoop;
using gsdk::HostChannel;

inline std::string temp_path(const char* name) {
    char dir[] = "/tmp/gsdk-chan-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    return std::string(dir) + "/" + name;
}

// Turns the loop until done() holds; false after `ms` milliseconds.
template <typename Pred>
bool spin_until(EventLoop& loop, Pred done, int ms = 5000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        loop.run_once_nonblocking();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Turns the loop a given number of times (a count, not a duration: a slow
// machine turns it just as often).
inline void turn(EventLoop& loop, int turns) {
    for (int i = 0; i < turns; ++i) {
        loop.run_once_nonblocking();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

struct Recorder {
    int connects = 0;
    int disconnects = 0;
    std::vector<std::string> lines;
    HostChannel::Callbacks callbacks() {
        return {[this] { ++connects; }, [this](std::string_view l) { lines.emplace_back(l); },
                [this](const std::string&) { ++disconnects; }};
    }
};

}  // namespace channel_test
