// Two JSON values alike in every respect, types included: nlohmann's ==
// calls 2 (unsigned) and 2 (signed) equal, but decoders tell them apart
// (is_number_unsigned), so the quick reader must build the very same value.
#pragma once

#include <nlohmann/json.hpp>

namespace gsdk::test {

inline bool same_json(const nlohmann::json& a, const nlohmann::json& b) {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
    case nlohmann::json::value_t::object: {
        const auto& x = a.get_ref<const nlohmann::json::object_t&>();
        const auto& y = b.get_ref<const nlohmann::json::object_t&>();
        if (x.size() != y.size()) return false;
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
            if (i->first != j->first || !same_json(i->second, j->second)) return false;
        return true;
    }
    case nlohmann::json::value_t::array: {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!same_json(a[i], b[i])) return false;
        return true;
    }
    default:
        return a == b;
    }
}

}  // namespace gsdk::test
