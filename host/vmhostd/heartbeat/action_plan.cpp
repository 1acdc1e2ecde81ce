#include "action_plan.h"

#include <array>

namespace vmhost {

namespace {

constexpr std::array<const char*, 9> kHostActions = {"stop",   "reboot", "pause",        "unpause",     "suspend",
                                                     "resume", "resize", "live-migrate", "cold-migrate"};

}  // namespace

ActionPlan plan_for(HostAction action) {
    using E = gsdk::hbwire::EventType;
    using T = NoticeTimeout;
    switch (action) {
    case HostAction::Stop:
        return {E::Stop, true, true, T::Shutdown, std::nullopt, T::Resume};
    case HostAction::Reboot:
        return {E::Reboot, true, true, T::Shutdown, std::nullopt, T::Resume};
    case HostAction::Pause:
        return {E::Pause, true, true, T::Suspend, std::nullopt, T::Resume};
    case HostAction::Unpause:
        return {E::Unpause, false, false, T::Resume, E::Unpause, T::Resume};
    case HostAction::Suspend:
        return {E::Suspend, true, true, T::Suspend, std::nullopt, T::Resume};
    case HostAction::Resume:
        return {E::Resume, false, false, T::Resume, E::Resume, T::Resume};
    case HostAction::Resize:
        return {E::ResizeBegin, true, true, T::Suspend, E::ResizeEnd, T::Resume};
    case HostAction::LiveMigrate:
        return {E::LiveMigrateBegin, true, true, T::Suspend, E::LiveMigrateEnd, T::Resume};
    case HostAction::ColdMigrate:
        return {E::ColdMigrateBegin, true, true, T::Suspend, E::ColdMigrateEnd, T::Resume};
    }
    return {E::Unknown, false, false, T::Shutdown, std::nullopt, T::Resume};
}

const char* to_string(HostAction action) {
    auto i = static_cast<std::size_t>(action);
    return i < kHostActions.size() ? kHostActions[i] : "unknown";
}

bool from_string(std::string_view s, HostAction* out) {
    for (std::size_t i = 0; i < kHostActions.size(); ++i) {
        if (s == kHostActions[i]) {
            *out = static_cast<HostAction>(i);
            return true;
        }
    }
    return false;
}

}  // namespace vmhost
