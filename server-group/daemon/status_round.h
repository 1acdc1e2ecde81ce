// The status query on the host: one round at a time for the whole VM (the
// host's newer seq cancels an older one), shared by every local asker. An
// asker who comes while a round runs joins it and is first given the members
// already received, so every asker gets every member, then done, or a
// failure that says why: no host, host gone, host too slow, host refused,
// answer too large.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gsdk/event_loop.h"

namespace gsdk::sg {

class StatusAsker {
public:
    virtual ~StatusAsker() = default;
    virtual void member(const std::string& json) = 0;
    virtual void done(uint32_t member_count) = 0;
    // error: a positive errno (EHOSTDOWN, ETIMEDOUT, EPROTO, EMSGSIZE).
    virtual void failed(int error, const std::string& reason) = 0;
};

class StatusRound {
public:
    struct Limits {
        Millis timeout{5000};
        std::size_t max_members = 1024;
        std::size_t max_bytes = 1024 * 1024;
    };
    // Sends status_query with this seq to the host: 0 or a negative errno.
    using SendQuery = std::function<int(int64_t seq)>;

    StatusRound(EventLoop& loop, Limits limits, SendQuery send_query);

    // `key` names the asker (one per connection or legacy sender): asking
    // again replaces its earlier question.
    void ask(const std::string& key, std::unique_ptr<StatusAsker> asker);
    void forget(const std::string& key);

    void response(int64_t seq, const std::string& member_json);
    void response_done(int64_t seq);
    void host_refused(const std::string& log_msg);
    void host_lost();

    bool running() const { return seq_.has_value(); }
    std::size_t askers() const { return askers_.size(); }
    uint64_t stale_answers() const { return stale_; }

private:
    void fail_all(int error, const std::string& reason);

    Limits limits_;
    SendQuery send_query_;
    Timer deadline_;
    std::optional<int64_t> seq_;
    int64_t next_seq_ = 1;
    std::vector<std::string> members_;
    std::size_t bytes_ = 0;
    std::map<std::string, std::unique_ptr<StatusAsker>> askers_;
    uint64_t stale_ = 0;
};

}  // namespace gsdk::sg
