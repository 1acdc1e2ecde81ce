#include "guest_bounds.h"

#include <algorithm>

#include "gsdk/json_line.h"

namespace vmhost {

int64_t clamp_guest_value(const GuestBound& bound, int64_t value, std::vector<std::string>* notes) {
    int64_t clamped = std::clamp(value, bound.min, bound.max);
    if (clamped != value && notes)
        notes->push_back(std::string(bound.key) + " " + std::to_string(value) + " out of range " +
                         std::to_string(bound.min) + ".." + std::to_string(bound.max) + ", using " +
                         std::to_string(clamped));
    return clamped;
}

std::vector<std::string> bound_init(gsdk::hbwire::Init* init) {
    std::vector<std::string> notes;
    init->heartbeat_interval_ms = clamp_guest_value(kIntervalBound, init->heartbeat_interval_ms, &notes);
    init->vote_secs = clamp_guest_value(kVoteBound, init->vote_secs, &notes);
    init->shutdown_notice_secs = clamp_guest_value(kShutdownNoticeBound, init->shutdown_notice_secs, &notes);
    init->suspend_notice_secs = clamp_guest_value(kSuspendNoticeBound, init->suspend_notice_secs, &notes);
    init->resume_notice_secs = clamp_guest_value(kResumeNoticeBound, init->resume_notice_secs, &notes);
    init->restart_secs = clamp_guest_value(kRestartBound, init->restart_secs, &notes);
    if (init->name.size() > kMaxGuestName)
        notes.push_back("name of " + std::to_string(init->name.size()) + " bytes cut to " +
                        std::to_string(kMaxGuestName));
    init->name = gsdk::one_line(init->name, kMaxGuestName);
    return notes;
}

std::string bound_applications(std::vector<gsdk::hbwire::ApplicationStatus>* apps) {
    std::size_t received = apps->size();
    std::size_t long_names = 0;
    for (auto& a : *apps) {
        if (a.name.size() > kMaxApplicationName) ++long_names;
        a.name = gsdk::one_line(a.name, kMaxApplicationName);
        a.state = gsdk::one_line(a.state, kMaxApplicationState);
    }
    std::sort(apps->begin(), apps->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    if (apps->size() > kMaxApplications) apps->resize(kMaxApplications);
    std::string cut;
    if (received > kMaxApplications)
        cut =
            std::to_string(received) + " applications listed, the first " + std::to_string(kMaxApplications) + " kept";
    if (long_names > 0)
        cut += (cut.empty() ? "" : "; ") + std::to_string(long_names) + " name(s) cut to " +
               std::to_string(kMaxApplicationName) + " bytes";
    return cut;
}

std::string bound_log_msg(const std::string& text) { return gsdk::one_line(text, kMaxGuestLogMsg); }

}  // namespace vmhost
