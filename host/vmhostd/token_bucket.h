// A token bucket: `rate` events per second sustained, `burst` at once. Bounds
// what one guest can make the host do, whatever the guest sends.
#pragma once

#include <algorithm>
#include <chrono>

#include "gsdk/event_loop.h"

namespace vmhost {

class TokenBucket {
public:
    TokenBucket(double rate_per_sec, double burst) : rate_(rate_per_sec), burst_(burst), tokens_(burst) {}

    // True (and one token spent) if an event may pass at `now`.
    bool take(gsdk::Clock::time_point now) {
        if (last_ != gsdk::Clock::time_point{}) {
            double elapsed = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed) * rate_);
        }
        last_ = now;
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

private:
    double rate_;
    double burst_;
    double tokens_;
    gsdk::Clock::time_point last_{};
};

}  // namespace vmhost
