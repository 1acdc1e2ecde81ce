// Collecting the answers to one action notification: a single reject vetoes
// a vote, a failing event script makes the answer "error", and silence at
// the deadline counts as accept (vote) or complete (notification).
#pragma once

#include <cstddef>
#include <set>
#include <string>

#include "heartbeat_host_wire.h"

namespace gsdk::heartbeat {

class VoteTally {
public:
    VoteTally(hbwire::NotificationType type, std::set<std::string> participants);

    // Records one participant's answer; unknown or repeated answers are ignored.
    // Returns true when the round is decided (a reject, or everyone answered).
    bool record(const std::string& participant, hbwire::VoteResult result, const std::string& reason);
    // A participant that went away counts as silent.
    bool withdraw(const std::string& participant);
    bool decided() const;
    // The merged answer; call at the deadline or once decided().
    hbwire::VoteResult result() const;
    std::string log_msg() const;
    std::size_t outstanding() const { return waiting_.size(); }

private:
    hbwire::NotificationType type_;
    std::set<std::string> waiting_;
    bool rejected_ = false;
    bool errored_ = false;
    std::string reason_;
};

}  // namespace gsdk::heartbeat
