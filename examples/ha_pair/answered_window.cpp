#include "answered_window.h"

#include <algorithm>
#include <cctype>

namespace ha {

namespace {

constexpr uint64_t kMaxRequest = (uint64_t{1} << 53) - 1;  // exact in JSON numbers

const char kHex[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

bool AnsweredWindow::answered(uint64_t n) const {
    if (n <= base_) return true;
    uint64_t i = n - base_ - 1;
    return i < kWindow && above_.test(i);
}

bool AnsweredWindow::answer(uint64_t n, uint64_t* given_up) {
    if (given_up) *given_up = 0;
    if (n == 0 || n > kMaxRequest || answered(n)) return false;
    if (n - base_ > kWindow) {
        // Move the window so that n is its last bit.
        uint64_t shift = n - base_ - kWindow;
        uint64_t lost = 0;
        for (uint64_t i = 0; i < std::min(shift, kWindow); ++i) lost += !above_.test(i);
        lost += shift > kWindow ? shift - kWindow : 0;
        above_ = shift >= kWindow ? std::bitset<kWindow>() : above_ >> shift;
        base_ += shift;
        if (given_up) *given_up = lost;
    }
    above_.set(n - base_ - 1);
    slide();
    return true;
}

void AnsweredWindow::slide() {
    while (above_.test(0)) {
        above_ >>= 1;
        ++base_;
    }
}

nlohmann::json AnsweredWindow::to_json() const {
    // Four bits per hex digit, lowest numbers first; trailing zeros left out.
    std::string bits;
    for (uint64_t i = 0; i < kWindow; i += 4) {
        int v = 0;
        for (int b = 0; b < 4; ++b) v |= above_.test(i + b) << b;
        bits += kHex[v];
    }
    bits.erase(bits.find_last_not_of('0') + 1);
    return {{"base", base_}, {"bits", bits}};
}

std::optional<AnsweredWindow> AnsweredWindow::from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("base") || !j["base"].is_number_unsigned() || !j.contains("bits") ||
        !j["bits"].is_string())
        return std::nullopt;
    AnsweredWindow w;
    w.base_ = j["base"].get<uint64_t>();
    const std::string& bits = j["bits"].get_ref<const std::string&>();
    if (w.base_ > kMaxRequest || bits.size() > kWindow / 4) return std::nullopt;
    for (std::size_t d = 0; d < bits.size(); ++d) {
        int v = hex_value(bits[d]);
        if (v < 0) return std::nullopt;
        for (int b = 0; b < 4; ++b)
            if (v & (1 << b)) w.above_.set(d * 4 + b);
    }
    w.slide();
    return w;
}

bool AnsweredStreams::valid_stream_id(const std::string& id) {
    if (id.empty() || id.size() > kMaxStreamId) return false;
    for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    return true;
}

bool AnsweredStreams::answered(const std::string& stream, uint64_t n) const {
    auto it = windows_.find(stream);
    return it != windows_.end() && it->second.window.answered(n);
}

void AnsweredStreams::record(const std::string& stream, uint64_t n, uint64_t* given_up) {
    auto it = windows_.find(stream);
    if (it == windows_.end()) {
        if (windows_.size() >= kMaxStreams) {
            auto oldest = windows_.begin();
            for (auto w = windows_.begin(); w != windows_.end(); ++w)
                if (w->second.last_used < oldest->second.last_used) oldest = w;
            windows_.erase(oldest);
        }
        it = windows_.emplace(stream, Entry{}).first;
        // A stream first met in the middle (this node started late and has
        // no state for it): track the numbers just before, not all since 1.
        if (n > AnsweredWindow::kWindow / 2)
            it->second.window = AnsweredWindow::starting_at(n - AnsweredWindow::kWindow / 2 - 1);
    }
    it->second.last_used = ++clock_;
    if (it->second.window.answer(n, given_up)) ++served_;
}

nlohmann::json AnsweredStreams::to_json() const {
    nlohmann::json streams = nlohmann::json::object();
    for (const auto& [id, entry] : windows_) streams[id] = entry.window.to_json();
    return {{"served", served_}, {"streams", streams}};
}

std::optional<AnsweredStreams> AnsweredStreams::from_json(const nlohmann::json& j) {
    if (!j.is_object() || !j.contains("served") || !j["served"].is_number_unsigned() || !j.contains("streams") ||
        !j["streams"].is_object() || j["streams"].size() > kMaxStreams)
        return std::nullopt;
    AnsweredStreams s;
    s.served_ = j["served"].get<uint64_t>();
    for (const auto& [id, window] : j["streams"].items()) {
        auto w = AnsweredWindow::from_json(window);
        if (!valid_stream_id(id) || !w) return std::nullopt;
        s.windows_[id] = Entry{*w, ++s.clock_};
    }
    return s;
}

}  // namespace ha
