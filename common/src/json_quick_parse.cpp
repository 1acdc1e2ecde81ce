// The quick reader of gsdk/json_quick.h: recursive descent over the bytes,
// copying a string's plain bytes a run at a time. Every "false" below means
// "not decided here" and sends the whole text to nlohmann.
#include <cstdint>

#include "gsdk/json_quick.h"
#include "gsdk/utf8_sequence.h"
#include "json_plain_run.h"

namespace gsdk {

namespace {

using nlohmann::json;

// Deeper than this is left to nlohmann, whose parser keeps its own stack.
constexpr int kMaxDepth = 64;
// Up to 18 digits fit both int64 and uint64; longer may not (nlohmann then
// makes a float), so they are left to it.
constexpr std::size_t kMaxDigits = 18;

void append_utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
        out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

class QuickReader {
public:
    explicit QuickReader(std::string_view text)
        : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()) {}

    bool object_document(json* out) {
        skip_space();
        // Anything else (a scalar, an array, a byte order mark) is nlohmann's.
        if (p_ == end_ || *p_ != '{') return false;
        if (!object(out, 1)) return false;
        skip_space();
        return p_ == end_;
    }

private:
    void skip_space() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    }

    bool take(char c) {
        skip_space();
        if (p_ == end_ || *p_ != static_cast<unsigned char>(c)) return false;
        ++p_;
        return true;
    }

    bool value(json* out, int depth) {
        if (p_ == end_) return false;
        switch (*p_) {
        case '{':
            return object(out, depth + 1);
        case '[':
            return array(out, depth + 1);
        case '"': {
            std::string s;
            if (!string(&s)) return false;
            *out = std::move(s);
            return true;
        }
        case 't':
            return literal("true", json(true), out);
        case 'f':
            return literal("false", json(false), out);
        case 'n':
            return literal("null", json(nullptr), out);
        default:
            return number(out);
        }
    }

    bool object(json* out, int depth) {
        if (depth > kMaxDepth) return false;
        ++p_;  // '{'
        *out = json::object();
        auto& members = out->get_ref<json::object_t&>();
        if (take('}')) return true;
        for (;;) {
            skip_space();
            std::string key;
            if (p_ == end_ || *p_ != '"' || !string(&key) || !take(':')) return false;
            skip_space();
            json member;
            if (!value(&member, depth)) return false;
            // As nlohmann's DOM builder: a repeated key keeps its last value.
            members.insert_or_assign(std::move(key), std::move(member));
            if (take('}')) return true;
            if (!take(',')) return false;
        }
    }

    bool array(json* out, int depth) {
        if (depth > kMaxDepth) return false;
        ++p_;  // '['
        *out = json::array();
        auto& elements = out->get_ref<json::array_t&>();
        if (take(']')) return true;
        for (;;) {
            skip_space();
            elements.emplace_back();
            if (!value(&elements.back(), depth)) return false;
            if (take(']')) return true;
            if (!take(',')) return false;
        }
    }

    bool literal(std::string_view word, json v, json* out) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() ||
            std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word)
            return false;
        p_ += word.size();
        *out = std::move(v);
        return true;
    }

    // Integers only: "-"? digits, no leading zero, no fraction or exponent.
    bool number(json* out) {
        bool negative = p_ != end_ && *p_ == '-';
        if (negative) ++p_;
        const unsigned char* digits = p_;
        uint64_t v = 0;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') v = v * 10 + (*p_++ - '0');
        std::size_t n = static_cast<std::size_t>(p_ - digits);
        if (n == 0 || n > kMaxDigits || (n > 1 && *digits == '0')) return false;
        if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
        // nlohmann's types: unsigned for a non-negative number, signed (even -0) otherwise.
        if (negative)
            *out = -static_cast<int64_t>(v);
        else
            *out = v;
        return true;
    }

    bool hex4(uint32_t* out) {
        if (end_ - p_ < 4) return false;
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            unsigned char c = *p_++;
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                v |= c - 'A' + 10;
            else
                return false;
        }
        *out = v;
        return true;
    }

    // After the backslash.
    bool escape(std::string* out) {
        if (p_ == end_) return false;
        unsigned char letter = *p_++;
        if (char byte = detail::kUnescaped[letter]) {
            out->push_back(byte);
            return true;
        }
        if (letter != 'u') return false;
        uint32_t cp;
        if (!hex4(&cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(cp, out);
        return true;
    }

    bool string(std::string* out) {
        ++p_;  // '"'
        for (;;) {
            const unsigned char* run = p_;
            p_ = detail::plain_run_end(p_, end_);
            out->append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p_ - run));
            if (p_ == end_) return false;
            unsigned char c = *p_;
            if (c == '"') {
                ++p_;
                return true;
            }
            if (c == '\\') {
                ++p_;
                if (!escape(out)) return false;
                continue;
            }
            if (c < 0x20) return false;  // a raw control character
            std::size_t n = detail::utf8_sequence_length(p_, end_);
            if (n == 0) return false;
            out->append(reinterpret_cast<const char*>(p_), n);
            p_ += n;
        }
    }

    const unsigned char* p_;
    const unsigned char* end_;
};

}  // namespace

std::optional<json> quick_parse_object(std::string_view text) {
    json value;
    if (!QuickReader(text).object_document(&value)) return std::nullopt;
    return value;
}

}  // namespace gsdk
