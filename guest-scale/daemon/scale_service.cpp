#include "scale_service.h"

#include <cstring>
#include <memory>
#include <thread>

#include "cpu_set_text.h"
#include "gsdk/log.h"
#include "offline_state.h"

namespace gsdk::scale {

namespace {

using scalewire::Direction;

// Time kept back from the host's timeout_ms for the write and the answer.
Millis reserve_for(int64_t timeout_ms) { return Millis(std::min<int64_t>(1000, timeout_ms / 4)); }

// How long a CPU the host just plugged may take to appear in sysfs.
constexpr Millis kAppearWait{2000};

std::string list_text(const std::vector<unsigned>& cpus) { return scalewire::cpu_array_text(cpus); }

// The default of a scale down: the highest-numbered online CPU that has an
// online file, never CPU 0.
std::optional<unsigned> default_for_down(const CpuSnapshot& snapshot) {
    std::optional<unsigned> highest;
    for (const auto& c : snapshot.cpus)
        if (c.online && c.hotpluggable && c.id != 0) highest = c.id;
    return highest;
}

std::string nothing_to_take_down(const CpuSnapshot& snapshot) {
    return "no CPU can be taken offline (online " + list_text(snapshot.online()) +
           "; CPU 0 and CPUs without an online file stay online)";
}

Millis since(Clock::time_point start) { return std::chrono::duration_cast<Millis>(Clock::now() - start); }

}  // namespace

ScaleService::ScaleService(HotplugWorker& worker, HotplugWorker& state_writer, const CpuTree& tree,
                           Subscribers& subscribers, CpuChoice& choice, const DaemonConfig& config, Reply reply)
    : worker_(worker), state_writer_(state_writer), tree_(tree), subscribers_(subscribers), choice_(choice),
      config_(config), reply_(std::move(reply)) {}

bool ScaleService::read_initial(std::string* why) {
    CpuSnapshot snapshot;
    if (tree_.scan(&snapshot, why) < 0) return false;
    subscribers_.set_online(snapshot.online());
    LOG_NOTICE("CPUs online %s, offline %s (%s)", list_text(snapshot.online()).c_str(),
               list_text(snapshot.offline()).c_str(), tree_.cpu_dir().c_str());
    return true;
}

Millis ScaleService::budget_left() const {
    if (!op_) return Millis(0);
    return std::max(Millis(0), std::chrono::duration_cast<Millis>(op_->choice_deadline - Clock::now()));
}

void ScaleService::send(const std::string& reply_to, const scalewire::ScaleResponse& r) {
    std::string text = scalewire::encode_response(r).dump();
    if (int rc = reply_(reply_to, text); rc < 0)
        LOG_RATELIMITED(LogLevel::Warning, "reply", "cannot answer %s: %s", reply_to.c_str(), std::strerror(-rc));
}

void ScaleService::fail(const std::string& reply_to, std::optional<Direction> direction, const std::string& err) {
    scalewire::ScaleResponse r;
    r.direction = direction;
    r.success = false;
    r.err_msg = err;
    send(reply_to, r);
}

void ScaleService::request(const std::string& source_addr, const std::string& data_json) {
    auto data = nlohmann::json::parse(data_json, nullptr, false);
    auto decoded = scalewire::decode_request(data.is_discarded() ? nlohmann::json() : data);
    if (auto* refusal = std::get_if<scalewire::RequestRefusal>(&decoded)) {
        LOG_RATELIMITED(LogLevel::Warning, "malformed", "scale request from %s refused: %s", source_addr.c_str(),
                        refusal->reason.c_str());
        fail(source_addr, refusal->direction, "malformed scale_request: " + refusal->reason);
        return;
    }
    auto& request = std::get<scalewire::ScaleRequest>(decoded);
    if (op_) {
        LOG_RATELIMITED(LogLevel::Warning, "busy", "scale %s request from %s refused: operation %llu in progress",
                        scalewire::to_string(request.direction), source_addr.c_str(),
                        static_cast<unsigned long long>(op_->id));
        fail(source_addr, request.direction, "another scale operation is in progress");
        return;
    }
    Operation op;
    op.id = next_id_++;
    op.reply_to = source_addr;
    op.request = std::move(request);
    op.started = Clock::now();
    op.choice_deadline = op.started + Millis(op.request.timeout_ms) - reserve_for(op.request.timeout_ms);
    op_ = std::move(op);
    Direction direction = op_->request.direction;
    auto id = static_cast<unsigned long long>(op_->id);
    auto timeout_ms = static_cast<long long>(op_->request.timeout_ms);
    if (direction == Direction::Up)
        start_up();
    else
        start_down();
    // Logged once the work is under way: the line's write then overlaps the
    // worker's instead of delaying it.
    LOG_INFO("scale %s request %llu from %s (timeout %lld ms)", scalewire::to_string(direction), id,
             source_addr.c_str(), timeout_ms);
}

// The operation's next step on the worker; a full queue ends the operation.
void ScaleService::submit_or_fail(std::function<void()> job, std::function<void()> done) {
    if (worker_.submit(std::move(job), std::move(done)) == 0) return;
    fail(op_->reply_to, op_->request.direction, "the daemon is overloaded (hotplug queue full)");
    op_.reset();
}

// --- down ------------------------------------------------------------------

void ScaleService::start_down() {
    // Nobody to ask: the tree is read, the default chosen and written in one
    // job of the worker, sparing two hand-overs between threads (each costs
    // milliseconds in a busy guest).
    if (!choice_.has_chooser()) {
        start_down_by_default();
        return;
    }
    auto result = std::make_shared<std::pair<int, std::string>>();
    auto snapshot = std::make_shared<CpuSnapshot>();
    const CpuTree& tree = tree_;
    submit_or_fail([&tree, result, snapshot] { result->first = tree.scan(snapshot.get(), &result->second); },
                   [this, result, snapshot] {
                       if (op_) op_->snapshot = std::move(*snapshot);
                       scanned_for_down(result->first, result->second);
                   });
}

void ScaleService::start_down_by_default() {
    op_->chosen_by = "default";
    auto outcome = std::make_shared<Outcome>();
    const CpuTree& tree = tree_;
    submit_or_fail(
        [&tree, outcome] {
            auto began = Clock::now();
            CpuSnapshot before;
            if (int err = tree.scan(&before, &outcome->why); err < 0) {
                outcome->error = err;
                return;
            }
            auto cpu = default_for_down(before);
            if (!cpu) {
                outcome->error = -EBUSY;
                outcome->why = nothing_to_take_down(before);
                outcome->after = std::move(before);
                return;
            }
            *outcome = apply(tree, *cpu, false, std::nullopt);
            outcome->job_began = began;
        },
        [this, outcome] { finished(*outcome); });
}

void ScaleService::scanned_for_down(int rc, const std::string& why) {
    if (!op_) return;
    if (rc < 0) {
        LOG_RATELIMITED(LogLevel::Error, "scan", "scale down: %s", why.c_str());
        fail(op_->reply_to, Direction::Down, why);
        op_.reset();
        return;
    }
    std::optional<unsigned> highest = default_for_down(op_->snapshot);
    if (!highest) {
        std::string err = nothing_to_take_down(op_->snapshot);
        LOG_WARN("scale down refused: %s", err.c_str());
        fail(op_->reply_to, Direction::Down, err);
        op_.reset();
        return;
    }
    op_->default_cpu = *highest;
    LOG_DEBUG("scale down request %llu: tree read after %lld ms", static_cast<unsigned long long>(op_->id),
              static_cast<long long>(since(op_->started).count()));
    choice_.ask(op_->id, op_->snapshot.online(), op_->default_cpu, budget_left(),
                [this](const Proposal& p) { proposal(p); });
}

std::optional<std::string> ScaleService::unusable_for_down(unsigned cpu) const {
    if (cpu == 0) return "is CPU 0 (never taken offline)";
    const CpuState* c = op_->snapshot.find(cpu);
    if (!c) return "does not exist";
    if (!c->hotpluggable) return "has no online file";
    if (!c->online) return "is already offline";
    return std::nullopt;
}

void ScaleService::proposal(const Proposal& p) {
    if (!op_) return;
    unsigned cpu = op_->default_cpu;
    op_->chosen_by = "default";
    if (p.cpu) {
        if (auto problem = unusable_for_down(*p.cpu)) {
            LOG_RATELIMITED(LogLevel::Warning, *problem + std::to_string(*p.cpu),
                            "%s chose CPU %u, which %s; taking CPU %u (the default)", p.who.c_str(), *p.cpu,
                            problem->c_str(), cpu);
        } else {
            cpu = *p.cpu;
            op_->chosen_by = p.who.rfind("the app scale helper", 0) == 0 ? "helper" : "application";
        }
    } else if (p.who != "nobody") {
        LOG_RATELIMITED(LogLevel::Warning, "no choice", "%s gave no CPU (%s); taking CPU %u (the default)",
                        p.who.c_str(), p.why.c_str(), cpu);
    }
    LOG_DEBUG("scale down request %llu: CPU %u chosen by %s after %lld ms", static_cast<unsigned long long>(op_->id),
              cpu, op_->chosen_by.c_str(), static_cast<long long>(since(op_->started).count()));
    take_offline(cpu, cpu != op_->default_cpu ? std::optional<unsigned>(op_->default_cpu) : std::nullopt);
}

void ScaleService::take_offline(unsigned cpu, std::optional<unsigned> fallback) {
    auto outcome = std::make_shared<Outcome>();
    const CpuTree& tree = tree_;
    submit_or_fail([&tree, outcome, cpu, fallback] { *outcome = apply(tree, cpu, false, fallback); },
                   [this, outcome] { finished(*outcome); });
}

// --- up --------------------------------------------------------------------

void ScaleService::start_up() {
    auto outcome = std::make_shared<Outcome>();
    const CpuTree& tree = tree_;
    unsigned cpu = op_->request.online_cpu;
    auto wait = std::min(kAppearWait, budget_left());
    submit_or_fail(
        [&tree, outcome, cpu, wait] {
            auto began = Clock::now();
            CpuSnapshot before;
            if (int err = tree.scan(&before, &outcome->why); err < 0) {
                outcome->error = err;
                return;
            }
            // A CPU the host has just hot-plugged appears a moment later, its
            // directory before its online file: until that file reads 0 or 1
            // it has not fully appeared (a CPU that never has one, like cpu0,
            // costs the wait before the refusal).
            auto until = Clock::now() + wait;
            auto settled = [&] {
                const CpuState* c = before.find(cpu);
                return c && c->hotpluggable;
            };
            while (!settled() && tree.possible(cpu).value_or(false) && Clock::now() < until) {
                std::this_thread::sleep_for(Millis(20));
                if (tree.scan(&before, &outcome->why) < 0) break;
            }
            const CpuState* c = before.find(cpu);
            if (!c) {
                outcome->error = -ENOENT;
                outcome->why = "there is no CPU " + std::to_string(cpu) + " in this guest";
            } else if (!c->hotpluggable) {
                outcome->error = -EPERM;
                outcome->why = "CPU " + std::to_string(cpu) + " has no online file (it is always online)";
            } else if (c->online) {
                outcome->error = -EALREADY;
                outcome->why = "CPU " + std::to_string(cpu) + " is already online";
            } else {
                *outcome = apply(tree, cpu, true, std::nullopt);
            }
            if (outcome->error < 0) outcome->after = std::move(before);
            outcome->job_began = began;
        },
        [this, outcome] { finished(*outcome); });
}

// --- both ------------------------------------------------------------------

ScaleService::Outcome ScaleService::apply(const CpuTree& tree, unsigned cpu, bool online,
                                          std::optional<unsigned> fallback) {
    Outcome out;
    out.cpu = cpu;
    out.write_began = Clock::now();
    int rc = tree.set_online(cpu, online, &out.why);
    if (rc < 0 && fallback) {
        out.note = out.why + "; took CPU " + std::to_string(*fallback) + " (the default) instead";
        out.cpu = *fallback;
        out.why.clear();
        rc = tree.set_online(*fallback, online, &out.why);
    }
    if (rc < 0) {
        out.error = rc;
        return out;
    }
    out.write_ended = Clock::now();
    if (int err = tree.scan(&out.after, &out.why); err < 0) {
        out.error = err;
        return out;
    }
    out.job_ended = Clock::now();
    const CpuState* c = out.after.find(out.cpu);
    if (!c || c->online != online) {
        out.error = -EIO;
        out.why =
            "CPU " + std::to_string(out.cpu) + " is still " + (online ? "offline" : "online") + " after the write";
    }
    return out;
}

// After the answer, not before it: the host waits for the answer, and the
// file only matters at the next boot. Its own thread runs the saves in
// order, so the file ends with the newest set; the next operation's hotplug
// does not wait behind this one's fsync (seen: 4 ms on a busy disk, where
// the fake-tree bench's up waited for the down's save).
void ScaleService::save_state(const std::vector<unsigned>& offline) {
    auto problem = std::make_shared<std::string>();
    std::string path = config_.state_file;
    int rc = state_writer_.submit(
        [path, offline, problem] {
            if (save_offline_state(path, offline, problem.get()) == 0) problem->clear();
        },
        [problem] {
            if (!problem->empty())
                LOG_RATELIMITED(LogLevel::Warning, "state", "last-known offline set not saved: %s", problem->c_str());
        });
    if (rc < 0)
        LOG_RATELIMITED(LogLevel::Warning, "state",
                        "last-known offline set not saved: the state writer's queue is full");
}

// The debug line the in-guest bench reads, written after the answer went.
// Before the write: the hand-over to the worker and the first read of the
// tree; after the re-read: the hand-back to this thread.
void ScaleService::log_where_time_went(const Operation& op, const Outcome& outcome) {
    // Whole units between two of the moments, or `missing` where either
    // did not happen (0 for the milliseconds, -1 for the microseconds).
    auto between = [](auto unit, Clock::time_point from, Clock::time_point to, long long missing) {
        if (from == Clock::time_point{} || to == Clock::time_point{}) return missing;
        return static_cast<long long>(std::chrono::duration_cast<decltype(unit)>(to - from).count());
    };
    auto ms = [&](Clock::time_point from, Clock::time_point to) { return between(Millis{}, from, to, 0); };
    auto us = [&](Clock::time_point from, Clock::time_point to) {
        return between(std::chrono::microseconds{}, from, to, -1);
    };
    LOG_DEBUG(
        "scale %s request %llu: sysfs write %lld ms, re-read %lld ms, %lld ms in all (%lld us before the write, "
        "%lld us to hand back, %lld us to the worker)",
        scalewire::to_string(op.request.direction), static_cast<unsigned long long>(op.id),
        ms(outcome.write_began, outcome.write_ended), ms(outcome.write_ended, outcome.job_ended),
        ms(op.started, op.answered), us(op.started, outcome.write_began), us(outcome.job_ended, op.answered),
        us(op.started, outcome.job_began));
}

void ScaleService::finished(const Outcome& outcome) {
    if (!op_) return;
    Operation op = std::move(*op_);
    op_.reset();
    op.answered = Clock::now();
    Direction direction = op.request.direction;
    auto elapsed = std::chrono::duration_cast<Millis>(op.answered - op.started).count();
    if (outcome.error < 0) {
        LOG_RATELIMITED(LogLevel::Warning, "failed", "scale %s request %llu failed after %lld ms: %s",
                        scalewire::to_string(direction), static_cast<unsigned long long>(op.id),
                        static_cast<long long>(elapsed), outcome.why.c_str());
        fail(op.reply_to, direction, outcome.why);
        log_where_time_went(op, outcome);
        return;
    }
    if (!outcome.note.empty()) {
        LOG_WARN("scale down: %s", outcome.note.c_str());
        op.chosen_by = "default";
    }
    std::vector<unsigned> online = outcome.after.online();
    scalewire::ScaleResponse r;
    r.direction = direction;
    r.success = true;
    r.cpu = outcome.cpu;
    r.online_cpus = online;
    send(op.reply_to, r);
    log_where_time_went(op, outcome);
    save_state(outcome.after.offline());
    ++served_;
    if (direction == Direction::Up) {
        LOG_NOTICE("scale up: CPU %u online in %lld ms; online %s", outcome.cpu, static_cast<long long>(elapsed),
                   list_text(online).c_str());
        subscribers_.scale_done(direction, outcome.cpu, online, "host");
        choice_.announce_up(outcome.cpu, online, Millis(op.request.timeout_ms));
    } else {
        LOG_NOTICE("scale down: CPU %u offline (chosen by %s) in %lld ms; online %s", outcome.cpu, op.chosen_by.c_str(),
                   static_cast<long long>(elapsed), list_text(online).c_str());
        subscribers_.scale_done(direction, outcome.cpu, online, op.chosen_by);
    }
}

}  // namespace gsdk::scale
