#include "daemon_config.h"

#include <set>

#include "gsdk/config_file.h"
#include "gsdk/peer_access.h"

namespace gsdk::heartbeat {

std::vector<std::string> apply_config_text(DaemonConfig* c, const std::string& text, const std::string& origin) {
    ConfigFile file = ConfigFile::parse(text, origin);
    c->heartbeat_interval_ms = file.get_int("HB_INTERVAL", c->heartbeat_interval_ms, 100, 3600000);
    c->vote_secs = file.get_int("VOTE", c->vote_secs, 0, 3600);
    c->shutdown_notice_secs = file.get_int("SHUTDOWN_NOTICE", c->shutdown_notice_secs, 0, 3600);
    c->suspend_notice_secs = file.get_int("SUSPEND_NOTICE", c->suspend_notice_secs, 0, 3600);
    c->resume_notice_secs = file.get_int("RESUME_NOTICE", c->resume_notice_secs, 0, 3600);
    c->restart_secs = file.get_int("RESTART", c->restart_secs, 0, 86400);
    c->health_check_interval_secs = file.get_int("HEALTH_CHECK_INTERVAL", c->health_check_interval_secs, 1, 86400);
    c->init_delay_ms = file.get_int("INIT_DELAY_MS", c->init_delay_ms, 0, 60000);
    c->init_retry_ms = file.get_int("INIT_RETRY_MS", c->init_retry_ms, 100, 600000);
    c->suppress_repeat_secs = file.get_int("SUPPRESS_REPEAT_SECS", c->suppress_repeat_secs, 0, 86400);
    c->max_applications = file.get_int("MAX_APPLICATIONS", c->max_applications, 1, 65536);
    c->challenge_hold_percent = file.get_int("CHALLENGE_HOLD_PERCENT", c->challenge_hold_percent, 0, 75);
    c->max_registrations_per_uid = file.get_int("MAX_REGISTRATIONS_PER_UID", c->max_registrations_per_uid, 1, 65536);
    c->max_unregistered_per_uid = file.get_int("MAX_UNREGISTERED_PER_UID", c->max_unregistered_per_uid, 1, 4096);
    c->failure_retention_secs = file.get_int("FAILURE_RETENTION_SECS", c->failure_retention_secs, 1, 86400);
    c->access.read(file.entries());
    if (auto v = file.get("HEALTH_CHECK_SCRIPT")) c->health_check_script = *v;
    if (auto v = file.get("EVENT_NOTIFICATION_SCRIPT")) c->event_notification_script = *v;
    if (auto v = file.get("LEGACY_SOCKET")) c->legacy_socket_path = v->empty() ? "none" : *v;

    std::vector<std::string> problems = file.problems();
    if (auto v = file.get("CORRECTIVE_ACTION")) {
        hbwire::CorrectiveAction action;
        if (hbwire::from_string(*v, &action) && action != hbwire::CorrectiveAction::Unknown)
            c->corrective_action = action;
        else
            problems.push_back(origin + ": CORRECTIVE_ACTION=" + *v + " is not one of none, reboot, stop, log");
    }
    static const std::set<std::string> known = {"HB_INTERVAL",
                                                "CORRECTIVE_ACTION",
                                                "VOTE",
                                                "SHUTDOWN_NOTICE",
                                                "SUSPEND_NOTICE",
                                                "RESUME_NOTICE",
                                                "RESTART",
                                                "HEALTH_CHECK_INTERVAL",
                                                "HEALTH_CHECK_SCRIPT",
                                                "EVENT_NOTIFICATION_SCRIPT",
                                                "INIT_DELAY_MS",
                                                "INIT_RETRY_MS",
                                                "SUPPRESS_REPEAT_SECS",
                                                "MAX_APPLICATIONS",
                                                "CHALLENGE_HOLD_PERCENT",
                                                "SOCKET_GROUP",
                                                "ALLOWED_GROUPS",
                                                "ALLOWED_UIDS",
                                                "MAX_REGISTRATIONS_PER_UID",
                                                "MAX_UNREGISTERED_PER_UID",
                                                "FAILURE_RETENTION_SECS",
                                                "LEGACY_SOCKET"};
    for (const auto& [key, value] : file.entries())
        if (!known.count(key)) problems.push_back(origin + ": unknown key " + key + " ignored");
    return problems;
}

}  // namespace gsdk::heartbeat
