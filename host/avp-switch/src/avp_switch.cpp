#include "avp_switch.hpp"

#include <gsdk/log.h>
#include <gsdk/service_notify.h>
#include <sys/resource.h>
#include <csignal>
#include <cstdio>
#include <sstream>

namespace avpsw {

namespace {

double cpu_seconds(double* user = nullptr, double* sys = nullptr) {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    double u = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    double s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    if (user) *user = u;
    if (sys) *sys = s;
    return u + s;
}

nlohmann::json error(const std::string& text) { return {{"ok", false}, {"error", text}}; }

const char* kHelp =
    "commands: ports | stats [PORT] | status | migrate PORT detach|attach [TIMEOUT_MS] | "
    "fault PORT MODE [COUNT] | bench | shutdown | help";

// How long a guest's control request waits for the switch at most while
// requests come (or a migration step or fault is pending); after
// kQuietTicks ticks without any the period doubles up to kIdleTick, so an
// idle switch does not wake 1000 times a second (3% of a core).
constexpr gsdk::Millis kTick{1};
constexpr gsdk::Millis kIdleTick{16};
constexpr uint32_t kQuietTicks = 100;
constexpr std::chrono::seconds kFaultPickUp{10};

}  // namespace

AvpSwitch::AvpSwitch(SwitchConfig cfg) : cfg_(std::move(cfg)), tick_(loop_, [this] { tick(); }) {}

AvpSwitch::~AvpSwitch() {
    for (auto& u : units_) u->stop();
}

std::string AvpSwitch::start() {
    control_ = std::make_unique<ControlServer>(
        loop_, [this](uint64_t client, const std::string& line) {
            hurry_tick();  // a migration or fault it starts is watched from the next millisecond
            return handle(client, line);
        });
    std::string err = control_->listen(cfg_.socket_path);
    if (!err.empty()) return err;
    for (auto& pc : cfg_.ports) {
        auto p = Port::create(pc, err);
        if (!p) return "port " + pc.name + ": " + err;
        LOG_INFO("port %s (%s) at %s, device id %016llx", pc.name.c_str(), profile_name(pc.profile),
                 p->location().c_str(), static_cast<unsigned long long>(p->device_id()));
        ports_.push_back(std::move(p));
    }
    for (auto& tc : cfg_.taps) {
        auto t = TapPort::create(tc, err);
        if (!t) return "tap " + tc.name + ": " + err;
        LOG_INFO("tap %s: interface %s, MTU %u, in the learning domain", tc.name.c_str(), tc.ifname.c_str(), tc.mtu);
        taps_.push_back(std::move(t));
    }
    std::vector<Port*> learning;
    for (auto& p : ports_) {
        bool paired = false;
        for (auto& [a, b] : cfg_.pairs) {
            if (a == p->name() && a == b)
                units_.push_back(std::make_unique<ForwardingUnit>(ForwardingUnit::Kind::Loopback,
                                                                  std::vector<Port*>{p.get()}, cfg_.busy_poll));
            else if (a == p->name())
                units_.push_back(std::make_unique<ForwardingUnit>(
                    ForwardingUnit::Kind::Pair, std::vector<Port*>{p.get(), find(b)}, cfg_.busy_poll));
            paired = paired || a == p->name() || b == p->name();
        }
        if (!paired) learning.push_back(p.get());
    }
    std::vector<TapPort*> taps;
    for (auto& t : taps_) taps.push_back(t.get());
    if (!learning.empty() || !taps.empty())
        units_.push_back(
            std::make_unique<ForwardingUnit>(ForwardingUnit::Kind::Learning, learning, cfg_.busy_poll, taps));
    for (auto& p : ports_) {
        p->set_reg(AVP_REG_MIGRATION_STATUS, AVP_MIGRATION_NONE);
        p->active.store(true);
    }
    for (auto& u : units_) u->start();
    for (auto& p : ports_) {
        if (!p->has_doorbell()) continue;
        ForwardingUnit* u = unit_of(p.get());
        Port* port = p.get();
        doorbells_.push_back(std::make_unique<DoorbellServer>(loop_, *p, [u] { return u->passes(); }, [this, port] {
            port->service_requests();
            hurry_tick();
        }));
        if (auto e = doorbells_.back()->listen(); !e.empty()) return "port " + p->name() + ": " + e;
        LOG_INFO("port %s: ivshmem server for QEMU's ivshmem-doorbell at %s (%u vectors)", p->name().c_str(),
                 p->config().doorbell.c_str(), p->irq_vectors());
    }
    bench_t0_ = std::chrono::steady_clock::now();
    next_report_ = bench_t0_ + std::chrono::seconds(cfg_.bench_seconds);
    bench_cpu0_ = cpu_seconds();
    return {};
}

Port* AvpSwitch::find(const std::string& name) {
    for (auto& p : ports_)
        if (p->name() == name) return p.get();
    return nullptr;
}

const DoorbellServer* AvpSwitch::doorbell_of(const Port& p) const {
    for (auto& d : doorbells_)
        if (&d->port() == &p) return d.get();
    return nullptr;
}

ForwardingUnit* AvpSwitch::unit_of(const Port* p) {
    for (auto& u : units_)
        if (u->owns(p)) return u.get();
    return nullptr;
}

int AvpSwitch::run() {
    std::signal(SIGPIPE, SIG_IGN);
    for (int s : {SIGINT, SIGTERM})
        signals_.push_back(std::make_unique<gsdk::SignalWatch>(loop_, s, [this, s] {
            LOG_NOTICE("stopping on signal %d", s);
            loop_.stop();
        }));
    LOG_INFO("control socket %s", cfg_.socket_path.c_str());
    tick_.start(kTick);
    gsdk::notify_ready("forwarding");
    int rc = loop_.run();
    gsdk::notify_stopping();
    for (auto& pend : pending_) control_->reply(pend.client, error("switch shutting down"));
    for (auto& pend : pending_faults_) control_->reply(pend.client, error("switch shutting down"));
    pending_.clear();
    pending_faults_.clear();
    LOG_INFO("stopping");
    return rc == 0 ? 0 : 1;
}

void AvpSwitch::tick() {
    uint32_t served = 0;
    for (auto& p : ports_) served += p->service_requests();
    for (auto& d : doorbells_) d->rearm_ctrl_ring();
    poll_pending();
    poll_faults();
    if (cfg_.bench_seconds && std::chrono::steady_clock::now() >= next_report_) report_bench();
    if (served || !pending_.empty() || !pending_faults_.empty())
        quiet_ticks_ = 0;
    else if (quiet_ticks_ < kQuietTicks)
        quiet_ticks_++;
    tick_period_ = quiet_ticks_ < kQuietTicks ? kTick : std::min(tick_period_ * 2, kIdleTick);
    tick_.start(tick_period_);
}

void AvpSwitch::hurry_tick() {
    quiet_ticks_ = 0;
    if (tick_period_ == kTick) return;
    tick_period_ = kTick;
    tick_.start(kTick);
}

std::optional<nlohmann::json> AvpSwitch::handle(uint64_t client, const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string s; in >> s;) w.push_back(s);
    if (w.empty()) return error("empty command; " + std::string(kHelp));
    const std::string& cmd = w[0];
    auto port_arg = [&](Port*& p) -> std::optional<nlohmann::json> {
        if (w.size() < 2) return error(cmd + ": missing port name");
        p = find(w[1]);
        if (!p) return error(cmd + ": unknown port '" + w[1] + "'");
        return std::nullopt;
    };
    auto number = [&](size_t i, uint32_t lo, uint32_t hi, uint32_t dflt, uint32_t& out) {
        out = dflt;
        if (w.size() <= i) return true;
        char* end = nullptr;
        unsigned long v = std::strtoul(w[i].c_str(), &end, 10);
        if (*end || w[i].empty() || v < lo || v > hi) return false;
        out = static_cast<uint32_t>(v);
        return true;
    };

    if (cmd == "help") return nlohmann::json{{"ok", true}, {"help", kHelp}};
    if (cmd == "ports" || cmd == "stats") {
        nlohmann::json arr = nlohmann::json::array();
        if (cmd == "stats" && w.size() > 1) {
            for (auto& t : taps_)
                if (t->name() == w[1]) arr.push_back(tap_stats(*t));
            Port* p = nullptr;
            if (arr.empty()) {
                if (auto e = port_arg(p)) return e;
                arr.push_back(port_stats(*p));
            }
        } else {
            for (auto& p : ports_) arr.push_back(port_stats(*p));
            for (auto& t : taps_) arr.push_back(tap_stats(*t));
        }
        return nlohmann::json{{"ok", true}, {"ports", arr}};
    }
    if (cmd == "migrate") {
        Port* p = nullptr;
        if (auto e = port_arg(p)) return e;
        if (w.size() < 3 || (w[2] != "detach" && w[2] != "attach"))
            return error("migrate: expected 'migrate PORT detach|attach [TIMEOUT_MS]'");
        uint32_t t;
        if (!number(3, 1, 600000, cfg_.migrate_timeout_ms, t))
            return error("migrate: timeout '" + w[3] + "' is not a number of ms in [1, 600000]");
        return migrate(client, *p, w[2], t);
    }
    if (cmd == "fault") {
        Port* p = nullptr;
        if (auto e = port_arg(p)) return e;
        FaultMode m;
        if (w.size() < 3 || !parse_fault_mode(w[2], m))
            return error("fault: unknown mode '" + (w.size() < 3 ? std::string() : w[2]) +
                         "' (modes: " + fault_mode_names() + ")");
        uint32_t count;
        if (!number(3, 1, 1024, 1, count)) return error("fault: count '" + w[3] + "' is not a number in [1, 1024]");
        std::string e = p->inject_fault(m, count);
        if (!e.empty()) return error("fault " + p->name() + ": " + e);
        nlohmann::json done{{"ok", true}, {"port", p->name()}, {"fault", w[2]}, {"count", count}};
        if (p->faults_done()) return done;
        // Answered once the datapath has done it, so a client's next step sees it.
        // Ring faults wait for room the guest makes: a slow guest takes a while.
        pending_faults_.push_back({client, p, done, std::chrono::steady_clock::now() + kFaultPickUp});
        return std::nullopt;
    }
    if (cmd == "status") return status();
    if (cmd == "bench") return bench_figures();
    if (cmd == "shutdown") {
        loop_.stop();  // the reply goes out first: stop takes effect after this pass
        return nlohmann::json{{"ok", true}};
    }
    return error("unknown command '" + cmd + "'; " + kHelp);
}

namespace {

uint64_t value(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

// The counters AVP ports and TAPs share, added to `j`.
void add_traffic(nlohmann::json& j, const PortCounters& c) {
    j["rx_packets"] = value(c.rx_packets);
    j["rx_bytes"] = value(c.rx_bytes);
    j["rx_errors"] = value(c.rx_errors);
    j["rx_drops"] = value(c.rx_drops);
    j["tx_packets"] = value(c.tx_packets);
    j["tx_bytes"] = value(c.tx_bytes);
    j["tx_errors"] = value(c.tx_errors);
    j["tx_drops"] = value(c.tx_drops);
}

}  // namespace

nlohmann::json AvpSwitch::tap_stats(const TapPort& t) const {
    nlohmann::json j = {
        {"name", t.name()}, {"profile", "tap"}, {"location", t.config().ifname}, {"mtu", t.config().mtu}};
    add_traffic(j, t.counters);
    return j;
}

nlohmann::json AvpSwitch::port_stats(const Port& p) const {
    auto& c = p.counters;
    auto v = value;
    char mac[18];
    auto& m = p.config().mac;
    std::snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    char id[17];
    std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(p.device_id()));
    nlohmann::json j = {
        {"name", p.name()},
        {"profile", profile_name(p.config().profile)},
        {"location", p.location()},
        {"backing", p.backing()},
        {"mac", mac},
        {"device_id", id},
        {"generation", p.generation()},
        {"attached", p.active.load()},
        {"migration_status", p.reg(AVP_REG_MIGRATION_STATUS)},
        {"migration_ack", p.reg(AVP_REG_MIGRATION_ACK)},
        {"guest_state", guest_state_name(p.guest_state.load())},
        {"mtu", p.mtu.load()},
        {"num_tx_queues", p.num_tx.load()},
        {"num_rx_queues", p.num_rx.load()},
        {"features", p.features.load()},
        {"driver_type", p.driver_type.load()},
        {"driver_version", p.driver_version.load()},
        {"free_errors", v(c.free_errors)},
        {"ctl_requests", v(c.ctl_requests)},
        {"ctl_errors", v(c.ctl_errors)},
        {"faults_injected", v(c.faults_injected)},
    };
    add_traffic(j, c);
    if (const DoorbellServer* d = doorbell_of(p)) {
        j["doorbell"] = {{"path", p.config().doorbell},
                         {"client_pid", d->client_pid()},
                         {"connections", d->connections()},
                         {"refused", d->refused()},
                         {"vectors", p.irq_vectors()},
                         {"queue_signals", v(c.irq_queue_signals)},
                         {"control_signals", v(c.irq_control_signals)},
                         {"guest_rings", p.guest_rings()},
                         {"host_wakeups", v(c.host_wakeups)},
                         {"ctrl_rings", v(c.ctrl_rings)}};
    }
    return j;
}

std::optional<nlohmann::json> AvpSwitch::migrate(uint64_t client, Port& p, const std::string& verb,
                                                 uint32_t timeout_ms) {
    for (auto& pend : pending_)
        if (pend.port == &p) return error("migrate " + p.name() + ": a migration step is already in progress");
    uint32_t want;
    if (verb == "detach") {
        if (!p.active.load()) return error("migrate " + p.name() + ": port is already detached");
        p.active.store(false);
        if (auto* u = unit_of(&p)) u->wait_quiescent();  // from here on nothing of ours touches its rings
        want = AVP_MIGRATION_DETACHED;
    } else {
        if (p.active.load()) return error("migrate " + p.name() + ": port is attached; detach it first");
        p.build(p.generation() + 1);  // new addresses and device id: the guest must re-translate
        p.active.store(true);
        if (auto* u = unit_of(&p)) u->wake();  // a sleeping unit starts polling it
        want = AVP_MIGRATION_ATTACHED;
    }
    p.set_reg(AVP_REG_MIGRATION_STATUS, want);
    p.raise_migration_interrupt();
    pending_.push_back(
        {client, &p, want, std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms), timeout_ms});
    return std::nullopt;
}

void AvpSwitch::poll_pending() {
    auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pending_.size();) {
        Pending& w = pending_[i];
        uint32_t ack = w.port->reg(AVP_REG_MIGRATION_ACK);
        std::optional<nlohmann::json> reply;
        const char* verb = w.want == AVP_MIGRATION_DETACHED ? "detach" : "attach";
        if (ack == w.want) {
            char id[17];
            std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(w.port->device_id()));
            reply = nlohmann::json{{"ok", true}, {"port", w.port->name()}, {"state", verb},
                                   {"ack", ack}, {"device_id", id},        {"generation", w.port->generation()}};
        } else if (ack == AVP_MIGRATION_ERROR) {
            reply = error("migrate " + w.port->name() + ": guest reported an error on " + verb);
        } else if (now >= w.deadline) {
            reply = error("migrate " + w.port->name() + ": guest did not acknowledge " + verb + " within " +
                          std::to_string(w.timeout_ms) + " ms (migration status " + std::to_string(w.want) + ", ack " +
                          std::to_string(ack) + ")");
        }
        if (reply) {
            control_->reply(w.client, *reply);
            pending_.erase(pending_.begin() + static_cast<long>(i));
        } else {
            i++;
        }
    }
}

void AvpSwitch::poll_faults() {
    auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pending_faults_.size();) {
        PendingFault& f = pending_faults_[i];
        if (f.port->faults_done())
            control_->reply(f.client, f.done);
        else if (now >= f.deadline)
            control_->reply(f.client, error("fault " + f.port->name() + ": not all of it reached the guest within " +
                                            std::to_string(kFaultPickUp.count()) + " s (its ring had no room)"));
        else {
            i++;
            continue;
        }
        pending_faults_.erase(pending_faults_.begin() + static_cast<long>(i));
    }
}

nlohmann::json AvpSwitch::status() const {
    const ControlCounters& c = control_->counters();
    return {{"ok", true},
            {"control",
             {{"clients", control_->clients()},
              {"max_clients", kMaxControlClients},
              {"accepted", c.accepted},
              {"refused_credentials", c.refused_credentials},
              {"refused_busy", c.refused_busy},
              {"oversize_requests", c.oversize},
              {"timed_out", c.timed_out},
              {"fd_exhaustion", control_->fd_exhaustion()}}}};
}

nlohmann::json AvpSwitch::bench_figures() {
    double user, sys;
    cpu_seconds(&user, &sys);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - bench_t0_).count();
    uint64_t pkts = 0, delivered = 0, busy = 0, total = 0;
    for (auto& u : units_) {
        busy += u->cycles_busy();
        total += u->cycles_total();
    }
    for (auto& p : ports_) {
        pkts += p->counters.rx_packets.load(std::memory_order_relaxed);
        delivered += p->counters.tx_packets.load(std::memory_order_relaxed);
    }
    // "mpps": frames taken from guests and switched; "delivered_mpps": frames
    // that reached a guest (less when receivers are slower than senders).
    return {{"ok", true},
            {"forwarded_packets", pkts},
            {"delivered_packets", delivered},
            {"wall_s", wall},
            {"cpu_user_s", user},
            {"cpu_sys_s", sys},
            {"cpu_percent", wall > 0 ? 100.0 * (user + sys) / wall : 0.0},
            {"mpps", wall > 0 ? pkts / wall / 1e6 : 0.0},
            {"delivered_mpps", wall > 0 ? delivered / wall / 1e6 : 0.0},
            {"forwarding_threads", units_.size()},
            // share of the forwarding threads' time spent in passes that moved frames
            {"busy_percent", total > 0 ? 100.0 * double(busy) / double(total) : 0.0},
            {"busy_cycles", busy},
            {"total_cycles", total}};
}

void AvpSwitch::report_bench() {
    auto now = std::chrono::steady_clock::now();
    double cpu = cpu_seconds();
    uint64_t pkts = 0;
    for (auto& p : ports_) pkts += p->counters.rx_packets.load(std::memory_order_relaxed);
    double dt = cfg_.bench_seconds;
    std::printf("avp-switch bench: %.2f Mpps forwarded, cpu %.0f%% (%zu forwarding threads)\n",
                (pkts - bench_pkts0_) / dt / 1e6, 100.0 * (cpu - bench_cpu0_) / dt, units_.size());
    std::fflush(stdout);
    bench_pkts0_ = pkts;
    bench_cpu0_ = cpu;
    next_report_ = now + std::chrono::seconds(cfg_.bench_seconds);
}

}  // namespace avpsw
