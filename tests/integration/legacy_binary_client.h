// A client of guest-heartbeatd's legacy stream socket, written in the test
// suite from the framing facts of docs/protocols/legacy-binary.md (byte
// offsets spelled out here), independently of the daemon's own codec: it
// plays a binary that bundles the original libguest_heartbeat_api.so.3.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace gsdk::test {

class LegacyBinaryClient {
public:
    enum Type : uint16_t {
        kInit = 0,
        kInitAck = 1,
        kFinal = 2,
        kChallenge = 3,
        kChallengeResponse = 4,
        kActionNotify = 5,
        kActionResponse = 6
    };
    struct Received {
        uint16_t type = 0;
        uint32_t word[3] = {0, 0, 0};  // the body's first u32 fields
    };

    LegacyBinaryClient() = default;
    ~LegacyBinaryClient();
    LegacyBinaryClient(const LegacyBinaryClient&) = delete;
    LegacyBinaryClient& operator=(const LegacyBinaryClient&) = delete;

    // Connects like the original library (stream socket, address length 110).
    bool connect(const std::string& path);
    void close();
    int fd() const { return fd_; }

    // action: 0 unknown, 1 none, 2 reboot, 3 stop, 4 log.
    bool init(const std::string& name, uint32_t interval_ms, uint32_t action, uint32_t vote_secs = 10,
              uint32_t notice_secs = 10);
    bool final_(const std::string& log_msg);
    bool challenge_response(uint32_t challenge, bool healthy, uint32_t action, const std::string& log_msg = "");
    // event/notify/vote as the legacy enums (vote: 1 accept, 2 reject, 3 complete).
    bool action_response(uint32_t invocation_id, uint32_t event, uint32_t notify, uint32_t vote,
                         const std::string& log_msg = "");
    bool send_raw(const std::string& bytes);

    // The next whole 228-byte message, or nullopt at the deadline or EOF.
    std::optional<Received> receive(std::chrono::milliseconds timeout);
    // The next message of `type`, answering challenges healthily meanwhile
    // when `answer_challenges`.
    std::optional<Received> receive_type(uint16_t type, std::chrono::milliseconds timeout,
                                         bool answer_challenges = true);
    // True once the daemon has closed the connection (within timeout).
    bool closed_by_daemon(std::chrono::milliseconds timeout);
    // A receive() ended at EOF (or a read error), not at its deadline.
    bool at_eof() const { return eof_; }

private:
    bool send_frame(uint16_t type, const char* body, std::size_t body_len);

    int fd_ = -1;
    uint32_t sequence_ = 0;
    std::string pending_;  // bytes of a message not yet whole
    bool eof_ = false;
};

}  // namespace gsdk::test
