// A TAP device (IFF_TAP | IFF_NO_PI) joining the learning domain like an
// AVP port, so a guest's AVP netdev can reach the host's network stack.
// Created and configured (MTU, up) on the control thread; read and written
// by the learning domain's forwarding thread only, non-blocking, a bounded
// number of frames per pass.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "port.hpp"
#include "port_config.hpp"

namespace avpsw {

class TapPort {
public:
    static std::unique_ptr<TapPort> create(const TapConfig& cfg, std::string& error);
    ~TapPort();

    const TapConfig& config() const { return cfg_; }
    const std::string& name() const { return cfg_.name; }
    int fd() const { return fd_; }  // readable when the host stack sent a frame
    PortCounters counters;  // rx: from the host stack; tx: to it

    // ---- forwarding thread ----------------------------------------------
    // Reads up to `max` frames the host stack sent (kept until the next call).
    uint32_t receive_burst(Frame* out, uint32_t max);
    // Writes one frame to the host stack; dropped (and counted) when the
    // device queue is full or the frame exceeds the MTU.
    void stage(const Frame& f);

private:
    explicit TapPort(TapConfig cfg) : cfg_(std::move(cfg)) {}

    TapConfig cfg_;
    int fd_ = -1;
    std::vector<uint8_t> bufs_;  // kBurst frames of kFrameRoom bytes
    uint32_t idle_skips_ = 0;
};

}  // namespace avpsw
