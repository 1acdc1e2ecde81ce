#include "status_round.h"

#include <cerrno>
#include <cstring>

#include "gsdk/log.h"

namespace gsdk::sg {

StatusRound::StatusRound(EventLoop& loop, Limits limits, SendQuery send_query)
    : limits_(limits), send_query_(std::move(send_query)), deadline_(loop, [this] {
          fail_all(ETIMEDOUT, "the host did not finish the status answer within " +
                                  std::to_string(limits_.timeout.count()) + " ms (" + std::to_string(members_.size()) +
                                  " members received)");
      }) {}

void StatusRound::ask(const std::string& key, std::unique_ptr<StatusAsker> asker) {
    if (!seq_) {
        int64_t seq = next_seq_;
        int rc = send_query_(seq);
        if (rc < 0) {
            asker->failed(-rc, rc == -EHOSTDOWN ? "the host is not connected"
                                                : std::string("status_query not sent: ") + std::strerror(-rc));
            return;
        }
        // Kept positive and within int32, like the original library's seq.
        next_seq_ = seq >= INT32_MAX ? 1 : seq + 1;
        seq_ = seq;
        members_.clear();
        bytes_ = 0;
        deadline_.start(limits_.timeout);
        LOG_DEBUG("status query %lld sent to the host", static_cast<long long>(seq));
    } else {
        // Joining the round in progress: what came so far, then the rest.
        for (const auto& m : members_) asker->member(m);
        // Members decide how often they ask: rate-limited like every line they cause.
        LOG_RATELIMITED(LogLevel::Debug, "join", "status query joins round %lld in progress (%zu members so far)",
                        static_cast<long long>(*seq_), members_.size());
    }
    askers_[key] = std::move(asker);
}

void StatusRound::forget(const std::string& key) { askers_.erase(key); }

void StatusRound::response(int64_t seq, const std::string& member_json) {
    if (!seq_ || seq != *seq_) {
        ++stale_;
        LOG_RATELIMITED(LogLevel::Info, "stale", "status_response for seq %lld ignored (current: %lld)",
                        static_cast<long long>(seq), seq_ ? static_cast<long long>(*seq_) : -1LL);
        return;
    }
    if (members_.size() >= limits_.max_members || bytes_ + member_json.size() > limits_.max_bytes) {
        fail_all(EMSGSIZE, "the host's status answer exceeds " + std::to_string(limits_.max_members) + " members or " +
                               std::to_string(limits_.max_bytes) + " bytes");
        return;
    }
    members_.push_back(member_json);
    bytes_ += member_json.size();
    for (auto& [key, asker] : askers_) asker->member(member_json);
}

void StatusRound::response_done(int64_t seq) {
    if (!seq_ || seq != *seq_) {
        ++stale_;
        LOG_RATELIMITED(LogLevel::Info, "stale-done", "status_response_done for seq %lld ignored",
                        static_cast<long long>(seq));
        return;
    }
    deadline_.stop();
    auto askers = std::move(askers_);
    askers_.clear();
    uint32_t count = static_cast<uint32_t>(members_.size());
    seq_.reset();
    members_.clear();
    bytes_ = 0;
    LOG_DEBUG("status answer complete: %u members for %zu askers", count, askers.size());
    for (auto& [key, asker] : askers) asker->done(count);
}

void StatusRound::host_refused(const std::string& log_msg) {
    if (seq_) fail_all(EPROTO, "the host refused the status query: " + log_msg);
}

void StatusRound::host_lost() {
    if (seq_)
        fail_all(EHOSTDOWN, "the host went away before the status answer was complete (" +
                                std::to_string(members_.size()) + " members received)");
}

void StatusRound::fail_all(int error, const std::string& reason) {
    deadline_.stop();
    LOG_WARN("status query %lld failed: %s", seq_ ? static_cast<long long>(*seq_) : -1LL, reason.c_str());
    auto askers = std::move(askers_);
    askers_.clear();
    seq_.reset();
    members_.clear();
    bytes_ = 0;
    for (auto& [key, asker] : askers) asker->failed(error, reason);
}

}  // namespace gsdk::sg
