// What a strict peer sees of our senders' framing
// (docs/protocols/virtio-serial-ports.md#framing): the byte stream must be a
// sequence of "\n{...}\n", each line exactly one JSON object, whatever the
// chunking it arrives in.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conformance {

class SenderFraming {
public:
    void feed(std::string_view bytes) { buffer_.append(bytes); }
    // The next complete message; nullopt until one has fully arrived. Bytes
    // that break the framing are recorded in violations() and skipped.
    std::optional<nlohmann::json> next();
    // Bytes received but not yet a complete message.
    std::size_t pending() const { return buffer_.size(); }
    const std::vector<std::string>& violations() const { return violations_; }

private:
    std::string buffer_;
    std::vector<std::string> violations_;
};

// Every violation in a whole stream, plus one if it ends inside a message.
std::vector<std::string> framing_violations(std::string_view stream);

}  // namespace conformance
