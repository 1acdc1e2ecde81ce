// The service the HA pair offers, as its client sees it: one datagram per
// request and per answer on a UNIX datagram socket, plain text.
//
//   request  "REQ <stream> <n>"                  stream: 1-16 of [A-Za-z0-9_-], n: 1..2^53-1
//   answer   "ANS <stream> <n> <node> <epoch>"  node: who answered, epoch: its active term
//
// A client numbers its requests 1, 2, 3... in its stream and sends again what
// is not answered in time; the service answers each number once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ha {

constexpr std::size_t kMaxDatagram = 128;

struct Request {
    std::string stream;
    uint64_t n = 0;
};

struct Answer {
    std::string stream;
    uint64_t n = 0;
    std::string node;
    uint64_t epoch = 0;
};

std::string format_request(const Request& r);
std::string format_answer(const Answer& a);
std::optional<Request> parse_request(const char* data, std::size_t len);
std::optional<Answer> parse_answer(const char* data, std::size_t len);

}  // namespace ha
