#include "challenge_answer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gsdk::heartbeat {

namespace {

// Everything but the applications list: keys, numbers, the action and a
// log_msg of at most 512 bytes (plus escaping) fit well within this.
constexpr std::size_t kFixedPartAllowance = 4 * 1024;
constexpr std::size_t kApplicationsBudget = kGuestLineBudget - kFixedPartAllowance;

std::size_t encoded_size(const std::string& text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
}

}  // namespace

hbwire::ChallengeResponse compose_challenge_response(int64_t challenge, const HealthVerdict& verdict,
                                                     const std::vector<hbwire::ApplicationStatus>* applications) {
    hbwire::ChallengeResponse response;
    response.heartbeat_response = challenge;
    response.healthy = verdict.healthy;
    response.corrective_action = verdict.action;
    response.log_msg = verdict.log_msg;
    if (!applications) return response;

    std::vector<const hbwire::ApplicationStatus*> order;
    order.reserve(applications->size());
    for (const auto& a : *applications) order.push_back(&a);
    std::stable_partition(order.begin(), order.end(),
                          [](const hbwire::ApplicationStatus* a) { return a->state != "healthy"; });
    response.applications.emplace();
    std::size_t used = 2;  // {}
    for (const auto* a : order) {
        std::size_t cost = encoded_size(a->name) + encoded_size(a->state) + 2;  // : and ,
        if (used + cost > kApplicationsBudget) break;
        used += cost;
        response.applications->push_back(*a);
    }
    // A name listed twice (a live registration and an earlier failure) is one key.
    std::size_t omitted = order.size() - response.applications->size();
    if (omitted) response.applications_omitted = static_cast<int64_t>(omitted);
    return response;
}

}  // namespace gsdk::heartbeat
