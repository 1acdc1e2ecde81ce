// Which receive queue a frame goes to: the same one for every frame of a
// flow (IPv4/IPv6 addresses, plus TCP/UDP ports when the frame is not a
// fragment), as a NIC's RSS would. Spreading one flow's frames over several
// queues lets the guest's CPUs deliver them out of order, which TCP takes
// for loss (spurious fast retransmits) and which defeats GRO. A frame with
// no flow (not IP) has no hash: the port spreads those over its queues.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>

namespace avpsw {

namespace flow_detail {

inline uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline uint32_t mix(uint32_t h, uint32_t v) {
    h ^= v * 0x9e3779b1u;
    h = (h << 13) | (h >> 19);
    return h * 0x85ebca6bu;
}

}  // namespace flow_detail

// `p` holds the first `len` bytes of an Ethernet frame (headers that do not
// fit count as absent). nullopt for a frame that is not IP.
inline std::optional<uint32_t> flow_hash(const uint8_t* p, uint32_t len) {
    using flow_detail::load32;
    using flow_detail::mix;
    uint32_t off = 12;
    if (len < off + 2) return std::nullopt;
    uint16_t type = static_cast<uint16_t>(p[off] << 8 | p[off + 1]);
    if ((type == 0x8100 || type == 0x88a8) && len >= off + 6) {  // one VLAN tag
        off += 4;
        type = static_cast<uint16_t>(p[off] << 8 | p[off + 1]);
    }
    off += 2;
    uint32_t h = 0, l4 = 0;
    uint8_t proto = 0;
    if (type == 0x0800) {
        if (len < off + 20) return std::nullopt;
        uint32_t ihl = (p[off] & 0x0fu) * 4;
        bool fragment = ((p[off + 6] & 0x3fu) | p[off + 7]) != 0;  // MF or an offset
        proto = p[off + 9];
        h = mix(mix(h, load32(p + off + 12)), load32(p + off + 16));
        if (!fragment && ihl >= 20) l4 = off + ihl;
    } else if (type == 0x86dd) {
        if (len < off + 40) return std::nullopt;
        proto = p[off + 6];
        for (uint32_t i = 8; i < 40; i += 4) h = mix(h, load32(p + off + i));
        l4 = off + 40;
    } else {
        return std::nullopt;
    }
    h = mix(h, proto);
    if (l4 && (proto == 6 || proto == 17) && len >= l4 + 4) h = mix(h, load32(p + l4));
    return h ^ (h >> 16);
}

}  // namespace avpsw
