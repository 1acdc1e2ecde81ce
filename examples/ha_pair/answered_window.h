// Which request numbers of a client's stream the service has answered: the
// state the HA pair hands over, so that no request is answered twice.
//
// A client numbers its requests 1, 2, 3... and sends again what stays
// unanswered, so the answered set is "everything up to base" plus a few
// numbers above it, answered out of order while earlier ones are resent.
// Those are kept as a fixed window of kWindow bits above base: the state has
// a bounded size whatever a client sends, and fits one broadcast.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ha {

class AnsweredWindow {
public:
    static constexpr uint64_t kWindow = 1024;

    // Records n as answered; false if it was already (a resend to drop).
    // A number beyond the window moves the window up: the numbers it leaves
    // behind unanswered count as given up (*given_up), and would not be
    // answered if they came back. A well-behaved client never has that many
    // requests outstanding.
    bool answer(uint64_t n, uint64_t* given_up = nullptr);
    bool answered(uint64_t n) const;
    uint64_t base() const { return base_; }
    // A window that counts everything up to base as answered.
    static AnsweredWindow starting_at(uint64_t base) {
        AnsweredWindow w;
        w.base_ = base;
        return w;
    }

    // {"base": N, "bits": "hex"}: bit i of the hex text (lowest first) is base+1+i.
    nlohmann::json to_json() const;
    static std::optional<AnsweredWindow> from_json(const nlohmann::json& j);

private:
    void slide();
    uint64_t base_ = 0;           // every request <= base_ is answered
    std::bitset<kWindow> above_;  // bit i: request base_ + 1 + i is answered
};

// The windows of every client stream the service knows, bounded in number:
// the least recently used is forgotten when a new stream comes and there is
// no room (its resends could then be answered again: documented limit).
class AnsweredStreams {
public:
    static constexpr std::size_t kMaxStreams = 4;
    static constexpr std::size_t kMaxStreamId = 16;

    // Whether request n of the stream was answered already (a resend to drop).
    bool answered(const std::string& stream, uint64_t n) const;
    // Records an answer that was sent (*given_up: see AnsweredWindow::answer).
    void record(const std::string& stream, uint64_t n, uint64_t* given_up = nullptr);
    uint64_t served() const { return served_; }
    std::size_t streams() const { return windows_.size(); }

    // {"served": N, "streams": {"id": window...}}
    nlohmann::json to_json() const;
    // nullopt for anything malformed or out of bounds.
    static std::optional<AnsweredStreams> from_json(const nlohmann::json& j);
    static bool valid_stream_id(const std::string& id);

private:
    struct Entry {
        AnsweredWindow window;
        uint64_t last_used = 0;
    };
    std::map<std::string, Entry> windows_;
    uint64_t clock_ = 0;
    uint64_t served_ = 0;  // requests answered by the pair, whichever node did
};

}  // namespace ha
