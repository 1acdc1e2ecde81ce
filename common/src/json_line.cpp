#include "gsdk/json_line.h"

#include "gsdk/json_quick.h"

namespace gsdk {

void LineSplitter::feed(std::string_view bytes, const LineFn& on_line, const OversizeFn& on_oversize) {
    while (!bytes.empty()) {
        std::size_t nl = bytes.find('\n');
        std::string_view chunk = bytes.substr(0, nl);
        bool complete = nl != std::string_view::npos;
        bytes = complete ? bytes.substr(nl + 1) : std::string_view();

        if (discarding_) {
            discarded_ += chunk.size();
            if (complete) {
                on_oversize(discarded_);
                discarding_ = false;
                discarded_ = 0;
            }
            continue;
        }
        if (partial_.size() + chunk.size() > max_line_) {
            discarded_ = partial_.size() + chunk.size();
            partial_.clear();
            if (complete) {
                on_oversize(discarded_);
                discarded_ = 0;
            } else {
                discarding_ = true;
            }
            continue;
        }
        if (!complete) {
            partial_.append(chunk);
            continue;
        }
        if (partial_.empty()) {
            if (!chunk.empty() && chunk != "\r") on_line(chunk);
        } else {
            partial_.append(chunk);
            std::string line;
            line.swap(partial_);
            if (line != "\r") on_line(line);
        }
    }
}

void LineSplitter::reset() {
    partial_.clear();
    discarding_ = false;
    discarded_ = 0;
}

std::optional<nlohmann::json> parse_json_object(std::string_view line, std::string* error) {
    // The lines our ports carry, quickly; anything else (and every refusal) is nlohmann's.
    if (auto quick = quick_parse_object(line)) return quick;
    nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
        if (error) *error = "not valid JSON";
        return std::nullopt;
    }
    if (!value.is_object()) {
        if (error) *error = "JSON value is not an object";
        return std::nullopt;
    }
    return value;
}

std::string frame_json_line(const nlohmann::json& object) {
    // Invalid UTF-8 is replaced rather than thrown at: free text can come from anywhere.
    std::string line = "\n";
    if (!quick_dump(object, &line)) line += object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    return line;
}

std::string one_line(std::string_view text, std::size_t max_len) {
    std::string out(text.substr(0, max_len));
    for (char& c : out)
        if (c == '\n' || c == '\r') c = ' ';
    return out;
}

}  // namespace gsdk
