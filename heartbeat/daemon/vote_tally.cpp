#include "vote_tally.h"

namespace gsdk::heartbeat {

using hbwire::NotificationType;
using hbwire::VoteResult;

VoteTally::VoteTally(NotificationType type, std::set<std::string> participants)
    : type_(type), waiting_(std::move(participants)) {}

bool VoteTally::record(const std::string& participant, VoteResult result, const std::string& reason) {
    if (!waiting_.erase(participant)) return decided();
    if (result == VoteResult::Reject && type_ == NotificationType::Revocable) {
        if (!rejected_) reason_ = "rejected by " + participant + (reason.empty() ? "" : ": " + reason);
        rejected_ = true;
    } else if (result == VoteResult::Error || result == VoteResult::Unknown) {
        if (!rejected_ && !errored_) reason_ = participant + " failed" + (reason.empty() ? "" : ": " + reason);
        errored_ = true;
    }
    return decided();
}

bool VoteTally::withdraw(const std::string& participant) {
    waiting_.erase(participant);
    return decided();
}

bool VoteTally::decided() const { return rejected_ || waiting_.empty(); }

VoteResult VoteTally::result() const {
    if (rejected_) return VoteResult::Reject;
    if (errored_) return VoteResult::Error;
    return type_ == NotificationType::Revocable ? VoteResult::Accept : VoteResult::Complete;
}

std::string VoteTally::log_msg() const {
    if (!reason_.empty()) return reason_;
    if (!waiting_.empty()) return std::to_string(waiting_.size()) + " silent until the deadline";
    return "";
}

}  // namespace gsdk::heartbeat
