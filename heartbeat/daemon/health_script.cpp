#include "health_script.h"

#include <cstring>

#include "gsdk/json_line.h"
#include "gsdk/log.h"

namespace gsdk::heartbeat {

HealthScript::HealthScript(EventLoop& loop, ChildProcesses& children, const DaemonConfig& config,
                           std::function<void()> changed)
    : children_(children), config_(config), changed_(std::move(changed)), timer_(loop, [this] { run(); }) {}

void HealthScript::start() {
    if (config_.health_check_script.empty()) {
        timer_.stop();
        if (finding_) {
            finding_.reset();
            changed_();
        }
        return;
    }
    timer_.start(Millis(0));
}

void HealthScript::run() {
    Millis period(static_cast<int64_t>(config_.health_check_interval_secs) * 1000);
    timer_.start(period);
    if (running_) return;
    pid_t pid = children_.spawn({config_.health_check_script}, {}, period, [this](const ChildExit& exit) {
        running_ = false;
        if (config_.health_check_script.empty()) return;  // a reload removed the script while it ran
        HealthFinding f{kHealthScriptSource, true, config_.corrective_action, ""};
        if (exit.timed_out) {
            f.healthy = false;
            f.detail = "health script did not finish within the check interval";
        } else if (!exit.exited || exit.exit_code != 0) {
            f.healthy = false;
            std::string out = one_line(exit.output, 160);
            while (!out.empty() && out.back() == ' ') out.pop_back();
            f.detail = exit.exited ? "health script exited with " + std::to_string(exit.exit_code)
                                   : "health script killed by signal " + std::to_string(exit.signal);
            if (!out.empty()) f.detail += ": " + out;
        }
        bool changed = !finding_ || finding_->healthy != f.healthy || finding_->detail != f.detail;
        if (changed && !f.healthy) LOG_WARN("%s", f.detail.c_str());
        if (changed && f.healthy && finding_) LOG_NOTICE("health script reports healthy again");
        finding_ = f;
        if (changed && changed_) changed_();
    });
    if (pid < 0) {
        LOG_ERROR("cannot run health script %s: %s", config_.health_check_script.c_str(), std::strerror(-pid));
        return;
    }
    running_ = true;
}

}  // namespace gsdk::heartbeat
