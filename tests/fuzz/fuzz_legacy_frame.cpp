// libFuzzer target: the reader of the original library's 228-byte frames.
// One reader lives across inputs, as one connection's parser does across
// reads; the first input byte splits the rest into chunks, so every chunking
// is tried. Invariants: the reader never holds more than a frame, and every
// message it accepts survives encode -> read unchanged.
#include <cstdint>
#include <cstdlib>

#include "legacy_heartbeat_frame.h"

using namespace gsdk::heartbeat::legacy;

namespace {

void check_round_trip(const Message& m) {
    Frame once = encode(m, 1);
    FrameReader again;
    if (again.feed(once.data(), once.size()) != kFrameSize) std::abort();
    auto result = again.next();
    auto* m2 = std::get_if<Message>(&result);
    if (!m2 || m2->index() != m.index() || encode(*m2, 1) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static FrameReader reader;
    if (size == 0) return 0;
    size_t chunk = 1 + data[0] % 64;
    const char* p = reinterpret_cast<const char*>(data + 1);
    size_t left = size - 1;
    while (left > 0) {
        size_t n = left < chunk ? left : chunk;
        for (size_t used = 0; used < n;) {
            used += reader.feed(p + used, n - used);
            auto result = reader.next();
            if (reader.buffered() > kFrameSize) std::abort();
            if (auto* m = std::get_if<Message>(&result)) check_round_trip(*m);
        }
        p += n;
        left -= n;
    }
    return 0;
}
