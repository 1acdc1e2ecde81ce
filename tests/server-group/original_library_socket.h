// The original libservergroup's datagram socket, written from the facts of
// how it reached its agent (not from its code): AF_UNIX SOCK_DGRAM, bound to
// the abstract name "cgcs.server_grp" (address length 2 + 1 + 15 = 18, no
// trailing NUL), sending one JSON text per datagram to the abstract name
// "cgcs.messaging" and reading at most 4096 bytes per datagram.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace gsdk::test {

class OriginalLibrarySocket {
public:
    explicit OriginalLibrarySocket(const std::string& name = "cgcs.server_grp");
    ~OriginalLibrarySocket();
    OriginalLibrarySocket(const OriginalLibrarySocket&) = delete;
    OriginalLibrarySocket& operator=(const OriginalLibrarySocket&) = delete;

    bool bound() const { return fd_ >= 0; }
    // 0 or -errno (ECONNREFUSED: no agent bound).
    int send(const std::string& json_text);
    // The next datagram as JSON (nullopt on timeout); raw() keeps its text.
    std::optional<nlohmann::json> receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    const std::string& raw() const { return raw_; }

    // The original's broadcast and status query, in json-c's plain format
    // (no blanks; '/' written as "\/").
    static std::string broadcast_text(const std::string& payload_json_escaped);
    static std::string status_query_text(int seq);

private:
    int fd_ = -1;
    std::string raw_;
};

}  // namespace gsdk::test
