#include "service_wire.h"

#include <sstream>
#include <vector>

#include "answered_window.h"

namespace ha {

namespace {

constexpr uint64_t kMaxNumber = (uint64_t{1} << 53) - 1;

std::vector<std::string> words(const char* data, std::size_t len) {
    std::istringstream in(std::string(data, len));
    std::vector<std::string> out;
    for (std::string w; in >> w && out.size() <= 5;) out.push_back(w);
    return out;
}

std::optional<uint64_t> number(const std::string& text) {
    if (text.empty() || text.size() > 16 || text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    uint64_t v = std::stoull(text);
    if (v == 0 || v > kMaxNumber) return std::nullopt;
    return v;
}

}  // namespace

std::string format_request(const Request& r) { return "REQ " + r.stream + " " + std::to_string(r.n); }

std::string format_answer(const Answer& a) {
    return "ANS " + a.stream + " " + std::to_string(a.n) + " " + a.node + " " + std::to_string(a.epoch);
}

std::optional<Request> parse_request(const char* data, std::size_t len) {
    if (len > kMaxDatagram) return std::nullopt;
    auto w = words(data, len);
    if (w.size() != 3 || w[0] != "REQ" || !AnsweredStreams::valid_stream_id(w[1])) return std::nullopt;
    auto n = number(w[2]);
    if (!n) return std::nullopt;
    return Request{w[1], *n};
}

std::optional<Answer> parse_answer(const char* data, std::size_t len) {
    if (len > kMaxDatagram) return std::nullopt;
    auto w = words(data, len);
    if (w.size() != 5 || w[0] != "ANS" || !AnsweredStreams::valid_stream_id(w[1]) || w[3].size() > 32)
        return std::nullopt;
    auto n = number(w[2]);
    if (!n || (w[4] != "0" && !number(w[4]))) return std::nullopt;
    return Answer{w[1], *n, w[3], w[4] == "0" ? 0 : *number(w[4])};
}

}  // namespace ha
