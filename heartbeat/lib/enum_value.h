// C callers may put any int into an enum argument; reading such a value as the
// C++ enum type is undefined behaviour, so the boundary reads its bytes.
#pragma once

#include <cstring>

namespace gsdk::heartbeat {

template <class Enum>
int enum_value(const Enum& e) {
    static_assert(sizeof(Enum) == sizeof(int), "C enums of the API are int-sized");
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

}  // namespace gsdk::heartbeat
