// The switch process: ports, forwarding units, and the control plane
// (guest control requests, migration, faults, stats) on the main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gsdk/event_loop.h>
#include <nlohmann/json.hpp>

#include "control_server.hpp"
#include "doorbell_server.hpp"
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
    // Runs the event loop (control socket, guest control requests,
    // migrations, doorbells) until a shutdown command or SIGTERM/SIGINT.
    int run();

private:
    struct Pending {  // a migration waiting for the guest's ack
        uint64_t client = 0;
        Port* port = nullptr;
        uint32_t want = 0;
        std::chrono::steady_clock::time_point deadline;
        uint32_t timeout_ms = 0;
    };
    struct PendingFault {  // a ring fault waiting for the datapath to carry it out
        uint64_t client = 0;
        Port* port = nullptr;
        nlohmann::json done;
        std::chrono::steady_clock::time_point deadline;
    };

    // Handles one control command; returns a reply now, or null when the
    // reply is deferred (migration waiting for an ack).
    std::optional<nlohmann::json> handle(uint64_t client, const std::string& line);
    // Guests' control requests, migration acks, faults: every millisecond
    // while there are any, backing off to kIdleTick when there are none.
    void tick();
    // Back to the short period at once (a control client asked something).
    void hurry_tick();
    nlohmann::json status() const;
    nlohmann::json port_stats(const Port& p) const;
    nlohmann::json tap_stats(const TapPort& t) const;
    nlohmann::json bench_figures();
    std::optional<nlohmann::json> migrate(uint64_t client, Port& p, const std::string& verb, uint32_t timeout_ms);
    void poll_pending();
    void poll_faults();
    void report_bench();
    Port* find(const std::string& name);
    ForwardingUnit* unit_of(const Port* p);
    const DoorbellServer* doorbell_of(const Port& p) const;

    SwitchConfig cfg_;
    gsdk::EventLoop loop_;
    std::unique_ptr<ControlServer> control_;
    gsdk::Timer tick_;
    gsdk::Millis tick_period_{1};
    uint32_t quiet_ticks_ = 0;  // ticks in a row that served nothing
    std::vector<std::unique_ptr<gsdk::SignalWatch>> signals_;
    std::vector<std::unique_ptr<Port>> ports_;
    std::vector<std::unique_ptr<TapPort>> taps_;
    std::vector<std::unique_ptr<ForwardingUnit>> units_;
    std::vector<std::unique_ptr<DoorbellServer>> doorbells_;  // before ports_ in destruction
    std::vector<Pending> pending_;
    std::vector<PendingFault> pending_faults_;
    std::chrono::steady_clock::time_point bench_t0_, next_report_;
    uint64_t bench_pkts0_ = 0;
    double bench_cpu0_ = 0;
};

}  // namespace avpsw
