// JSON-line framing for the host ports (docs/protocols/virtio-serial-ports.md#framing): one JSON object
// per line; receivers split on newlines whatever the chunking and skip empty
// lines; our senders write "\n{...}\n".
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gsdk {

// Longest line a receiver accepts; a longer one is discarded up to its newline.
// Sized for a challenge_response listing 1024 applications.
inline constexpr std::size_t kMaxJsonLine = 256 * 1024;

class LineSplitter {
public:
    using LineFn = std::function<void(std::string_view line)>;
    using OversizeFn = std::function<void(std::size_t discarded_bytes)>;

    explicit LineSplitter(std::size_t max_line = kMaxJsonLine) : max_line_(max_line) {}

    // Feeds received bytes; calls on_line for each complete, non-empty line
    // (without its newline) and on_oversize once for each line that was too long.
    void feed(std::string_view bytes, const LineFn& on_line, const OversizeFn& on_oversize);
    // Forgets a partial line (after a disconnect the stream starts afresh).
    void reset();
    std::size_t buffered() const { return partial_.size(); }

private:
    std::size_t max_line_;
    std::string partial_;
    bool discarding_ = false;
    std::size_t discarded_ = 0;
};

// Parses one line as a JSON object. On failure returns nullopt and says why.
std::optional<nlohmann::json> parse_json_object(std::string_view line, std::string* error);

// "\n{...}\n", the framing our senders use on both ports.
std::string frame_json_line(const nlohmann::json& object);

// Free text (log messages) must not carry raw newlines onto the wire.
std::string one_line(std::string_view text, std::size_t max_len = 512);

}  // namespace gsdk
