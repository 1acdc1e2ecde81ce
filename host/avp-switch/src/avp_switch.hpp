// The switch process: ports, forwarding units, and the control plane
// (guest control requests, migration, faults, stats) on the main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forwarding_unit.hpp"
#include "port.hpp"
#include "port_config.hpp"

namespace avpsw {

class AvpSwitch {
public:
    explicit AvpSwitch(SwitchConfig cfg);
    ~AvpSwitch();

    // Creates every port and starts forwarding; error text on failure.
    std::string start();
    // Runs the control loop until a shutdown command or signal.
    int run();

private:
    struct Pending {  // a migration waiting for the guest's ack
        int client = -1;
        Port* port = nullptr;
        uint32_t want = 0;
        std::chrono::steady_clock::time_point deadline;
        uint32_t timeout_ms = 0;
    };

    // Handles one control command; returns a reply now, or null when the
    // reply is deferred (migration waiting for an ack).
    std::optional<nlohmann::json> handle(int client, const std::string& line);
    nlohmann::json port_stats(const Port& p) const;
    nlohmann::json bench_figures();
    std::optional<nlohmann::json> migrate(int client, Port& p, const std::string& verb, uint32_t timeout_ms);
    void poll_pending();
    void report_bench();
    Port* find(const std::string& name);
    ForwardingUnit* unit_of(const Port* p);

    SwitchConfig cfg_;
    std::vector<std::unique_ptr<Port>> ports_;
    std::vector<std::unique_ptr<ForwardingUnit>> units_;
    std::vector<Pending> pending_;
    int listen_fd_ = -1;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point bench_t0_, next_report_;
    uint64_t bench_pkts0_ = 0;
    double bench_cpu0_ = 0;
};

}  // namespace avpsw
