#include "sender_framing.h"

namespace conformance {

std::optional<nlohmann::json> SenderFraming::next() {
    while (!buffer_.empty()) {
        if (buffer_[0] != '\n') {
            // Skip to the next newline: the following message may still be fine.
            std::size_t nl = buffer_.find('\n');
            violations_.push_back("no newline before \"" + buffer_.substr(0, std::min<std::size_t>(nl, 60)) + "\"");
            if (nl == std::string::npos) {
                buffer_.clear();
                return std::nullopt;
            }
            buffer_.erase(0, nl);
            continue;
        }
        std::size_t end = buffer_.find('\n', 1);
        if (end == std::string::npos) return std::nullopt;
        std::string line = buffer_.substr(1, end - 1);
        buffer_.erase(0, end + 1);
        if (line.empty()) {
            violations_.push_back("an empty line (a newline too many)");
            buffer_.insert(0, "\n");  // the second newline may open the next message
            continue;
        }
        auto object = nlohmann::json::parse(line, nullptr, false);
        if (object.is_discarded() || !object.is_object()) {
            violations_.push_back("not one JSON object: " + line.substr(0, 60));
            continue;
        }
        return object;
    }
    return std::nullopt;
}

std::vector<std::string> framing_violations(std::string_view stream) {
    SenderFraming framing;
    framing.feed(stream);
    while (framing.next()) {}
    std::vector<std::string> v = framing.violations();
    if (framing.pending() > 0) v.push_back("the stream ends inside a message (no closing newline)");
    return v;
}

}  // namespace conformance
