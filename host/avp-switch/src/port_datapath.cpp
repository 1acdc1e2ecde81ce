// Port datapath: runs on the one forwarding thread that owns the port.
// No locks, no allocation, no system calls (but the wake-up of a guest that
// armed its queue's interrupt); everything the guest wrote is
// validated against host-private bookkeeping before it is used.
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "flow_hash.hpp"
#include "port.hpp"

namespace avpsw {

namespace {

// The fields of a descriptor the guest reads.
struct DescFields {
    uint64_t next, data;
    uint16_t data_len;
    uint8_t nb_segs;
    uint16_t pkt_len, ol_flags, vlan_tci;
};

// Writes only the fields that differ. The line is usually still shared with
// the guest's core, which wrote the very same values: a store would take the
// line away and make the guest's next read a cross-core miss. Skipping a
// store is safe because the host never reads these fields back. (Spelled
// out field by field: the descriptor is packed, so no reference helper.)
void rewrite(avp_desc* d, const DescFields& f) {
    if (d->next != f.next) d->next = f.next;
    if (d->data != f.data) d->data = f.data;
    if (d->data_len != f.data_len) d->data_len = f.data_len;
    if (d->nb_segs != f.nb_segs) d->nb_segs = f.nb_segs;
    if (d->pkt_len != f.pkt_len) d->pkt_len = f.pkt_len;
    if (d->ol_flags != f.ol_flags) d->ol_flags = f.ol_flags;
    if (d->vlan_tci != f.vlan_tci) d->vlan_tci = f.vlan_tci;
}

}  // namespace

void Port::wake_queue(uint32_t q, int fd) {
    avp_irq_line& line = b_.irq->queue[q];
    // The guest stores armed=1 and then re-reads the FIFO indices; we stored
    // an index and now read armed. Without a full fence between the two,
    // each side could miss the other's store and the guest would sleep on
    // a full ring. An unarmed queue costs the fence and one shared read.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (__atomic_load_n(&line.armed, __ATOMIC_RELAXED) == 0) return;
    if (__atomic_exchange_n(&line.armed, 0u, __ATOMIC_ACQ_REL) == 0) return;
    // The one system call of the datapath, and only for a guest that armed
    // its queue because it had nothing to do.
    // Counted first: whoever sees the interrupt also sees it counted.
    // (Also called from the control thread when QEMU connects: atomic adds.)
    __atomic_fetch_add(&line.raised, 1u, __ATOMIC_RELEASE);
    counters.irq_queue_signals.fetch_add(1, std::memory_order_release);
    (void)eventfd_write(fd, 1);  // fails only when the counter is saturated: it is pending anyway
}

void Port::housekeeping(bool now) {
    if (fault_pending_.load(std::memory_order_acquire) != 0 &&
        inject_ring_fault(static_cast<FaultMode>(fault_mode_.load())))
        fault_pending_.store(fault_pending_.load() - 1, std::memory_order_release);
    // Recycling every pass would read the guest's free/alloc index lines on
    // every pass and steal them from the guest's core; every few passes, in
    // bulk, costs one transfer per line per round instead. Sooner when the
    // host is short of buffers for deliveries.
    uint32_t reserve = nbuf_ / 2;
    if (!now && (++recycle_tick_ & (kRecycleEvery - 1)) != 0 && stack_n_ > reserve + 2 * kBurst) return;

    // Buffers the guest is done with (rx heads, freed by head like the originals).
    uint64_t va[kRecycleBatch];
    uint32_t nrx = num_rx.load(std::memory_order_relaxed);
    for (uint32_t q = free_index_fault_ ? 1 : 0; q < nrx; q++) {
        uint32_t n = free_[q].get(va, kRecycleBatch);
        if (free_[q].take_bad_index()) bump(counters.free_errors);
        for (uint32_t i = 0; i < n; i++) reclaim_rx(va[i]);
    }

    // Keep half of the pool for deliveries; the rest may wait in alloc FIFOs.
    // DPDK's net_avp (legacy profile only) relies on fresh buffers having
    // zero lengths and flags; the other profiles are driven by our drivers,
    // which write every field, so there a buffer's last lengths may stay and
    // its descriptor line is not taken away from the guest's cache.
    bool zero = cfg_.profile == Profile::Legacy;
    uint32_t ntx = num_tx.load(std::memory_order_relaxed);
    // Alloc FIFO 0 is not refilled while it is faulted, nor while an alloc
    // fault waits for room there (it would take the room first every time).
    bool alloc_fault_waiting = fault_pending_.load(std::memory_order_relaxed) != 0 &&
                               fault_mode_.load(std::memory_order_relaxed) >= uint32_t(FaultMode::AllocOutside) &&
                               fault_mode_.load(std::memory_order_relaxed) <= uint32_t(FaultMode::AllocGarbage);
    // What one alloc FIFO may hold: an equal share of the spare buffers. The
    // host cannot take back what it lent (the guest consumes the FIFO), so a
    // queue that does not transmit keeps its buffers; without a cap the idle
    // queues of a multi-queue guest end up holding every spare buffer and the
    // queue that carries the traffic stops for good. Until the guest says
    // how many queues it uses, queue 0 gets the share it would have among
    // as many as the port offers: what it takes before can never be
    // re-lent, and with the smallest pool it took all, leaving the other
    // queues nothing (pings lost). No floor above the equal share either (it
    // was two longest chains): with a small pool the first queues filled to
    // the floor and the last got nothing.
    uint32_t sharers = guest_state.load(std::memory_order_relaxed) == GuestState::Unconfigured
                           ? std::max<uint32_t>(ntx, cfg_.queues)
                           : ntx;
    uint32_t cap = sharers ? std::max<uint32_t>((nbuf_ - reserve) / sharers, 1) : 0;
    for (uint32_t q = alloc_index_fault_ || alloc_fault_waiting ? 1 : 0; q < ntx && stack_n_ > reserve; q++) {
        uint32_t qcap = std::min(cap, alloc_[q].capacity());
        uint32_t step = std::max<uint32_t>(1, std::min<uint32_t>(kBurst, qcap / 2));
        // Top up in steps: a FIFO within a step of its cap is left alone
        // without reading the guest's index (the cached view only ever
        // overestimates what the guest still holds). A corrupt index reads
        // as a full FIFO.
        uint32_t lent = alloc_[q].capacity() - alloc_[q].free_space(alloc_[q].capacity() - qcap + step);
        if (lent + step > qcap) continue;
        uint32_t room = qcap - lent;
        // What is spare is shared among the queues still to visit: the first
        // queues must not take it all and starve the others.
        uint32_t share = std::max<uint32_t>(kBurst, (stack_n_ - reserve) / (ntx - q));
        uint32_t n = 0;
        while (n < room && n < kRecycleBatch && n < share && stack_n_ > reserve) {
            uint32_t i = stack_[--stack_n_];
            avp_desc* d = desc(i);
            if (d->pkt_mbuf != i) d->pkt_mbuf = i;
            rewrite(d, DescFields{
                           .next = 0,
                           .data = buf_va(i) + sizeof(avp_desc),
                           .data_len = zero ? uint16_t(0) : uint16_t(d->data_len),
                           .nb_segs = 1,
                           .pkt_len = zero ? uint16_t(0) : uint16_t(d->pkt_len),
                           .ol_flags = zero ? uint16_t(0) : uint16_t(d->ol_flags),
                           .vlan_tci = zero ? uint16_t(0) : uint16_t(d->vlan_tci),
                       });
            owner_[i] = GuestAlloc;
            va[n++] = buf_va(i);
        }
        uint32_t put = alloc_[q].put(va, n);
        for (uint32_t k = put; k < n; k++) give_back(static_cast<uint32_t>(index_of(va[k])));
        if (put) signal_queue(q);
    }
}

void Port::reclaim_rx(uint64_t va) {
    int64_t i = index_of(va);
    if (i < 0 || (owner_[i] != GuestRxHead && owner_[i] != GuestFault)) {
        bump(counters.free_errors);
        return;
    }
    uint32_t cur = static_cast<uint32_t>(i);
    while (cur != kNoNext) {
        uint32_t nx = rx_next_[cur];
        rx_next_[cur] = kNoNext;
        give_back(cur);
        cur = nx;
    }
}

bool Port::parse_tx(uint64_t va, Frame& f) {
    f.nbuf = 0;
    f.nseg = 0;
    int64_t i = index_of(va);
    if (i < 0 || owner_[i] != GuestAlloc) return false;  // not ours to reclaim either
    owner_[i] = Host;
    f.buf[f.nbuf++] = static_cast<uint32_t>(i);

    const avp_desc* d = desc(static_cast<uint32_t>(i));
    uint8_t nb_segs = d->nb_segs;
    uint16_t pkt_len = d->pkt_len;
    f.ol_flags = d->ol_flags;
    f.vlan_tci = d->vlan_tci;
    if (nb_segs == 0 || nb_segs > AVP_MAX_SEGMENTS || pkt_len > AVP_MAX_FRAME) return false;
    uint32_t sum = 0;
    uint32_t cur = static_cast<uint32_t>(i);
    for (uint32_t s = 0;; s++) {
        d = desc(cur);
        uint64_t data = d->data, next = d->next;
        uint16_t len = d->data_len;
        uint64_t room_lo = buf_va(cur) + sizeof(avp_desc);
        uint64_t room_hi = room_lo + cfg_.mbuf_size;
        if (data < room_lo || data > room_hi || len > room_hi - data) return false;
        f.seg[f.nseg] = buf_ptr(cur) + (data - buf_va(cur));
        f.len[f.nseg++] = len;
        sum += len;
        if (s + 1 == nb_segs) break;
        int64_t n = index_of(next);
        if (n < 0 || owner_[n] != GuestAlloc) return false;  // loops land here: visited buffers are Host again
        owner_[n] = Host;
        f.buf[f.nbuf++] = static_cast<uint32_t>(n);
        cur = static_cast<uint32_t>(n);
    }
    if (sum != pkt_len || pkt_len < 14 || f.len[0] < 14) return false;
    f.pkt_len = pkt_len;
    return true;
}

uint32_t Port::receive_burst(Frame* out, uint32_t max) {
    uint32_t ntx = num_tx.load(std::memory_order_relaxed);
    if (tx_cursor_ >= ntx) tx_cursor_ = 0;
    Fifo& q = tx_[tx_cursor_];
    tx_cursor_ = tx_cursor_ + 1 < ntx ? tx_cursor_ + 1 : 0;

    uint64_t va[kBurst];
    if (max > kBurst) max = kBurst;
    uint32_t n = q.get(va, max);
    if (q.take_bad_index()) bump(counters.rx_errors);
    // The descriptors were last written by the guest's core: start all the
    // misses of the burst at once instead of one per frame.
    for (uint32_t k = 0; k < n; k++) {
        int64_t i = index_of(va[k]);
        if (i >= 0) __builtin_prefetch(desc(static_cast<uint32_t>(i)));
    }
    uint32_t good = 0;
    uint64_t bytes = 0;
    for (uint32_t k = 0; k < n; k++) {
        Frame& f = out[good];
        if (parse_tx(va[k], f)) {
            bytes += f.pkt_len;
            good++;
        } else {
            bump(counters.rx_errors);
            release(f);
        }
    }
    if (good) {
        bump(counters.rx_packets, good);
        bump(counters.rx_bytes, bytes);
    }
    return good;
}

void Port::release(const Frame& f) {
    for (uint32_t k = 0; k < f.nbuf; k++) give_back(f.buf[k]);
}

uint32_t Port::rx_queue_of(const Frame& f) const {
    uint32_t nrx = num_rx.load(std::memory_order_relaxed);
    if (nrx <= 1) return 0;
    if (nrx > AVP_MAX_QUEUES) nrx = AVP_MAX_QUEUES;
    // Frames of no flow take turns by burst, as before flows were kept
    // together: a DPDK guest sending its own ethertype still gets every
    // queue used.
    auto h = flow_hash(f.seg[0], f.len[0]);
    return h ? *h % nrx : rx_cursor_ % nrx;
}

bool Port::rx_room(uint32_t q) {
    if (room_[q] < 0) room_[q] = rx_[q].free_space(2 * kBurst);
    return pending_n_[q] < room_[q] && pending_n_[q] < 2 * kBurst;
}

uint32_t Port::max_frame_out() const {
    // MTU plus Ethernet header, one VLAN tag and FCS-less slack, capped.
    uint32_t m = mtu.load(std::memory_order_relaxed) + 22;
    return m < AVP_MAX_FRAME ? m : AVP_MAX_FRAME;
}

void Port::stage(const Frame& f) {
    if (!active.load(std::memory_order_acquire) || rx_index_fault_ ||
        guest_state.load(std::memory_order_relaxed) != GuestState::Up) {
        bump(counters.tx_drops);
        return;
    }
    // A tag the sender asked to insert: hand it over stripped when this
    // guest negotiated VLAN offload, else put it into the bytes.
    bool tagged = f.ol_flags & AVP_TX_VLAN_PKT;
    bool offload = features.load(std::memory_order_relaxed) & AVP_FEATURE_VLAN_OFFLOAD;
    bool insert = tagged && !offload;
    uint32_t len = f.pkt_len + (insert ? 4 : 0);
    if (len > max_frame_out()) {
        bump(counters.tx_errors);
        return;
    }
    uint32_t room = cfg_.mbuf_size;
    uint32_t need = (len + room - 1) / room;
    uint32_t q = rx_queue_of(f);
    if (need > AVP_MAX_SEGMENTS || need > stack_n_ || !rx_room(q)) {
        bump(counters.tx_drops);
        return;
    }

    // Source pieces: the frame's segments, with the tag spliced in if needed.
    const uint8_t* src[AVP_MAX_SEGMENTS + 2];
    uint32_t slen[AVP_MAX_SEGMENTS + 2];
    uint32_t np = 0;
    uint8_t tag[4] = {0x81, 0x00, uint8_t(f.vlan_tci >> 8), uint8_t(f.vlan_tci)};
    for (uint32_t s = 0; s < f.nseg; s++) {
        if (s == 0 && insert) {
            src[np] = f.seg[0];
            slen[np++] = 12;
            src[np] = tag;
            slen[np++] = 4;
            src[np] = f.seg[0] + 12;
            slen[np++] = f.len[0] - 12u;
        } else {
            src[np] = f.seg[s];
            slen[np++] = f.len[s];
        }
    }

    uint32_t head = 0, prev = kNoNext;
    uint32_t p = 0, poff = 0, left = len;
    for (uint32_t s = 0; s < need; s++) {
        uint32_t b = stack_[--stack_n_];
        uint8_t* dst = buf_ptr(b) + sizeof(avp_desc);
        uint32_t fill = left < room ? left : room;
        for (uint32_t done = 0; done < fill;) {
            while (slen[p] == poff) {
                p++;
                poff = 0;
            }
            uint32_t c = slen[p] - poff;
            if (c > fill - done) c = fill - done;
            std::memcpy(dst + done, src[p] + poff, c);
            done += c;
            poff += c;
        }
        left -= fill;
        avp_desc* d = desc(b);
        d->pkt_mbuf = b;
        d->next = 0;
        d->data = buf_va(b) + sizeof(avp_desc);
        d->data_len = static_cast<uint16_t>(fill);
        d->nb_segs = s == 0 ? static_cast<uint8_t>(need) : 1;
        d->pkt_len = s == 0 ? static_cast<uint16_t>(len) : 0;
        d->ol_flags = (s == 0 && tagged && offload) ? AVP_RX_VLAN_PKT : 0;
        d->vlan_tci = (s == 0 && tagged && offload) ? f.vlan_tci : 0;
        rx_next_[b] = kNoNext;
        if (s == 0) {
            head = b;
            owner_[b] = GuestRxHead;
        } else {
            owner_[b] = GuestRxSeg;
            rx_next_[prev] = b;
            desc(prev)->next = buf_va(b);
        }
        prev = b;
    }
    pending_[q][pending_n_[q]++] = buf_va(head);
    pending_queues_ |= 1u << q;
    bump(counters.tx_packets);
    bump(counters.tx_bytes, len);
}

void Port::stage_in_place(const Frame& f) {
    if (!active.load(std::memory_order_acquire) || rx_index_fault_ ||
        guest_state.load(std::memory_order_relaxed) != GuestState::Up || f.pkt_len > max_frame_out() ||
        ((f.ol_flags & AVP_TX_VLAN_PKT) && !(features.load(std::memory_order_relaxed) & AVP_FEATURE_VLAN_OFFLOAD))) {
        stage(f);  // the copy path drops or rewrites as needed
        release(f);
        return;
    }
    uint32_t q = rx_queue_of(f);
    if (!rx_room(q)) {
        bump(counters.tx_drops);
        release(f);
        return;
    }
    // The validated chain already is a well-formed rx chain; rewrite every
    // field the guest will read from our own copies, never from its memory.
    for (uint32_t k = 0; k < f.nbuf; k++) {
        uint32_t b = f.buf[k];
        bool tagged = k == 0 && (f.ol_flags & AVP_TX_VLAN_PKT);
        rewrite(desc(b), DescFields{
                             .next = k + 1 < f.nbuf ? buf_va(f.buf[k + 1]) : 0,
                             .data = buf_va(b) + static_cast<uint64_t>(f.seg[k] - buf_ptr(b)),
                             .data_len = f.len[k],
                             .nb_segs = k == 0 ? static_cast<uint8_t>(f.nbuf) : uint8_t(1),
                             .pkt_len = k == 0 ? static_cast<uint16_t>(f.pkt_len) : uint16_t(0),
                             .ol_flags = tagged ? uint16_t(AVP_RX_VLAN_PKT) : uint16_t(0),
                             .vlan_tci = tagged ? f.vlan_tci : uint16_t(0),
                         });
        owner_[b] = k == 0 ? GuestRxHead : GuestRxSeg;
        rx_next_[b] = k + 1 < f.nbuf ? f.buf[k + 1] : kNoNext;
    }
    pending_[q][pending_n_[q]++] = buf_va(f.buf[0]);
    pending_queues_ |= 1u << q;
    bump(counters.tx_packets);
    bump(counters.tx_bytes, f.pkt_len);
}

void Port::flush() {
    for (int64_t& r : room_) r = -1;
    if (pending_queues_ == 0) return;
    rx_cursor_++;  // turned only by flushes that publish, so that every queue gets its turn
    while (pending_queues_) {
        uint32_t q = static_cast<uint32_t>(__builtin_ctz(pending_queues_));
        pending_queues_ &= pending_queues_ - 1;
        uint32_t n = pending_n_[q];
        pending_n_[q] = 0;
        uint32_t put = rx_[q].put(pending_[q], n);
        if (put) signal_queue(q);
        for (uint32_t k = put; k < n; k++) {
            // The guest moved its read index backwards under us: take them back.
            bump(counters.tx_drops);
            owner_[index_of(pending_[q][k])] = GuestRxHead;
            reclaim_rx(pending_[q][k]);
        }
    }
}

}  // namespace avpsw
