#include "messaging_guest.h"

#include "host_test_support.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace hosttest {

MessagingGuest::MessagingGuest(std::string path) : path_(std::move(path)) {}

MessagingGuest::~MessagingGuest() {
    disconnect();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(path_.c_str());
    }
}

void MessagingGuest::listen() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = listen_unix_stream(path_, "fake server-groupd");
}

bool MessagingGuest::accept(Millis timeout) {
    conn_ = accept_within(listen_fd_, timeout);
    lines_.clear();
    held_.clear();
    splitter_.reset();
    return conn_ >= 0;
}

void MessagingGuest::disconnect() {
    if (conn_ >= 0) ::close(conn_);
    conn_ = -1;
}

void MessagingGuest::send_raw(const std::string& bytes) { send_all(conn_, bytes); }

void MessagingGuest::send_data(const nlohmann::json& data) {
    nlohmann::json line = {
        {"version", 2}, {"source_addr", "cgcs.server_grp"}, {"dest_addr", "cgcs.server_grp"}, {"data", data}};
    send_raw("\n" + line.dump() + "\n");
}

void MessagingGuest::broadcast(const std::string& payload) {
    send_data({{"version", 2}, {"msg_type", "broadcast"}, {"data", payload}});
}

void MessagingGuest::status_query(int64_t seq) {
    send_data({{"version", 2}, {"msg_type", "status_query"}, {"seq", seq}});
}

bool MessagingGuest::fill(Millis timeout) {
    pollfd p{conn_, POLLIN, 0};
    if (conn_ < 0 || ::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buf[16384];
    ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
    if (n <= 0) {
        disconnect();
        return false;
    }
    raw_bytes_.append(buf, static_cast<std::size_t>(n));
    splitter_.feed(
        std::string_view(buf, static_cast<std::size_t>(n)),
        [this](std::string_view l) {
            lines_.emplace_back(l);
            raw_lines_.emplace_back(l);
        },
        [](std::size_t) {});
    return true;
}

std::optional<nlohmann::json> MessagingGuest::read_wire(Millis timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (!lines_.empty()) {
            std::string line = lines_.front();
            lines_.pop_front();
            // Unparsable lines stay in raw_lines() for the conformance checks.
            auto j = nlohmann::json::parse(line, nullptr, false);
            return j.is_discarded() ? nlohmann::json("(unparsable line)") : j;
        }
        auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !fill(left)) {
            if (!lines_.empty()) continue;
            return std::nullopt;
        }
    }
}

std::optional<nlohmann::json> MessagingGuest::next(Millis timeout) {
    if (!held_.empty()) {
        auto j = held_.front();
        held_.pop_front();
        return j;
    }
    return read_wire(timeout);
}

std::optional<nlohmann::json> MessagingGuest::next_of(const std::string& msg_type, Millis timeout) {
    for (auto it = held_.begin(); it != held_.end(); ++it) {
        if (msg_type_of(*it) == msg_type) {
            auto j = *it;
            held_.erase(it);
            return j;
        }
    }
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto j = read_wire(left);
        if (!j) return std::nullopt;
        if (msg_type_of(*j) == msg_type) return j;
        held_.push_back(*j);
    }
}

std::optional<std::vector<nlohmann::json>> MessagingGuest::sync(int64_t seq, Millis timeout) {
    status_query(seq);
    std::vector<nlohmann::json> before(held_.begin(), held_.end());
    held_.clear();
    auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<Millis>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto j = read_wire(left);
        if (!j) return std::nullopt;
        if (msg_type_of(*j) == "status_response_done" && (*j)["data"].value("seq", int64_t{-1}) == seq) return before;
        before.push_back(*j);
    }
}

}  // namespace hosttest
