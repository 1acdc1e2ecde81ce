// A token bucket: how many messages a sender may still push towards the
// host now. One per client connection and per legacy sender uid, so that one
// flooding sender cannot fill the host channel for the others.
#pragma once

#include <algorithm>
#include <chrono>

namespace gsdk::sg {

class SendAllowance {
public:
    using Clock = std::chrono::steady_clock;

    SendAllowance(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}

    bool take(Clock::time_point now = Clock::now()) {
        if (started_) {
            double elapsed = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
        }
        started_ = true;
        last_ = now;
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    bool started_ = false;
    Clock::time_point last_{};
};

}  // namespace gsdk::sg
