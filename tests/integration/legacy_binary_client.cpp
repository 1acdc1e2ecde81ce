#include "legacy_binary_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gsdk::test {

namespace {

constexpr std::size_t kFrame = 228;
constexpr std::size_t kHeader = 20;

void put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }  // host order, as the original
uint32_t get32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
void put_text(char* p, std::size_t field, const std::string& s) {
    std::size_t n = s.size() < field - 1 ? s.size() : field - 1;
    std::memcpy(p, s.data(), n);
}

}  // namespace

LegacyBinaryClient::~LegacyBinaryClient() { close(); }

bool LegacyBinaryClient::connect(const std::string& path) {
    close();
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), 110) < 0) {
        close();
        return false;
    }
    sequence_ = 0;
    pending_.clear();
    eof_ = false;
    return true;
}

void LegacyBinaryClient::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool LegacyBinaryClient::send_frame(uint16_t type, const char* body, std::size_t body_len) {
    char f[kFrame] = {};
    std::memcpy(f, "FDFDA5A5", 8);
    f[8] = 2;
    f[9] = 1;
    std::memcpy(f + 10, &type, 2);
    put32(f + 12, ++sequence_);
    put32(f + 16, kFrame);
    std::memcpy(f + kHeader, body, body_len);
    return send_raw(std::string(f, kFrame));
}

bool LegacyBinaryClient::send_raw(const std::string& bytes) {
    // One write per message, as the original library does.
    return fd_ >= 0 && ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

bool LegacyBinaryClient::init(const std::string& name, uint32_t interval_ms, uint32_t action, uint32_t vote_secs,
                              uint32_t notice_secs) {
    char b[64] = {};
    put_text(b, 40, name);
    put32(b + 40, interval_ms);
    put32(b + 44, vote_secs);
    put32(b + 48, notice_secs);
    put32(b + 52, notice_secs);
    put32(b + 56, notice_secs);
    put32(b + 60, action);
    return send_frame(kInit, b, sizeof b);
}

bool LegacyBinaryClient::final_(const std::string& log_msg) {
    char b[192] = {};
    put_text(b, 192, log_msg);
    return send_frame(kFinal, b, sizeof b);
}

bool LegacyBinaryClient::challenge_response(uint32_t challenge, bool healthy, uint32_t action,
                                            const std::string& log_msg) {
    char b[12 + 192] = {};
    put32(b, challenge);
    put32(b + 4, healthy ? 1 : 0);
    put32(b + 8, action);
    put_text(b + 12, 192, log_msg);
    return send_frame(kChallengeResponse, b, sizeof b);
}

bool LegacyBinaryClient::action_response(uint32_t invocation_id, uint32_t event, uint32_t notify, uint32_t vote,
                                         const std::string& log_msg) {
    char b[16 + 192] = {};
    put32(b, invocation_id);
    put32(b + 4, event);
    put32(b + 8, notify);
    put32(b + 12, vote);
    put_text(b + 16, 192, log_msg);
    return send_frame(kActionResponse, b, sizeof b);
}

std::optional<LegacyBinaryClient::Received> LegacyBinaryClient::receive(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pending_.size() < kFrame) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || fd_ < 0) return std::nullopt;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[kFrame];
        ssize_t n = ::recv(fd_, buf, kFrame - pending_.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            eof_ = true;
            return std::nullopt;
        }
        pending_.append(buf, static_cast<std::size_t>(n));
    }
    std::string f = pending_.substr(0, kFrame);
    pending_.erase(0, kFrame);
    if (f.compare(0, 8, "FDFDA5A5") != 0 || f[8] != 2) return std::nullopt;
    Received r;
    std::memcpy(&r.type, f.data() + 10, 2);
    for (int i = 0; i < 3; ++i) r.word[i] = get32(f.data() + kHeader + 4 * i);
    return r;
}

std::optional<LegacyBinaryClient::Received> LegacyBinaryClient::receive_type(uint16_t type,
                                                                             std::chrono::milliseconds timeout,
                                                                             bool answer_challenges) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto r = receive(left);
        if (!r) return std::nullopt;
        if (r->type == type) return r;
        if (r->type == kChallenge && answer_challenges) challenge_response(r->word[0], true, 2);
    }
}

bool LegacyBinaryClient::closed_by_daemon(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fd_ >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[kFrame];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    }
    return false;
}

}  // namespace gsdk::test
