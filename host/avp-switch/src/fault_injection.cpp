// Hostile-host modes: descriptors and indices a correct guest must refuse
// without a wild access. Run on the datapath thread because the rx and alloc
// FIFOs have one producer and the free FIFO one consumer.
#include <cstring>

#include "port.hpp"

namespace avpsw {

bool Port::inject_ring_fault(FaultMode m) {
    Fifo& q = rx_[0];
    switch (m) {
    case FaultMode::Clear:
        if (rx_index_fault_) q.force_write_index(saved_rx_write_);
        if (alloc_index_fault_) alloc_[0].republish_write();
        if (free_index_fault_) free_[0].republish_read();
        rx_index_fault_ = alloc_index_fault_ = free_index_fault_ = false;
        return true;
    case FaultMode::FifoIndex:
        if (!rx_index_fault_) {
            saved_rx_write_ = q.write_index();
            rx_index_fault_ = true;
        }
        q.force_write_index(cfg_.fifo_len + 5);
        bump(counters.faults_injected);
        return true;
    case FaultMode::AllocIndex:
        // Host stops producing on alloc 0 until clear, so the bad index stays.
        alloc_index_fault_ = true;
        alloc_[0].force_write_index(cfg_.fifo_len + 7);
        bump(counters.faults_injected);
        return true;
    case FaultMode::FreeIndex:
        free_index_fault_ = true;
        free_[0].force_read_index(cfg_.fifo_len + 9);
        bump(counters.faults_injected);
        return true;
    case FaultMode::AllocOutside:
    case FaultMode::AllocDataOutside:
    case FaultMode::AllocShortRoom:
    case FaultMode::AllocChainLoop:
    case FaultMode::AllocGarbage:
        return inject_alloc_fault(m);
    default:
        break;
    }
    if (rx_index_fault_) return true;  // the ring is garbage anyway
    if (q.free_space() == 0) return false;

    uint64_t outside = pool_va_ + pool_size_ + (1ull << 32);  // in no segment of the map
    uint64_t slot = outside;
    if (m != FaultMode::SlotOutside) {
        uint32_t need = m == FaultMode::ChainLoop ? 2 : 1;
        if (stack_n_ < need) return false;
        uint32_t a = stack_[--stack_n_];
        avp_desc* d = desc(a);
        std::memset(static_cast<void*>(d), 0, sizeof(*d));
        d->pkt_mbuf = a;
        d->data = buf_va(a) + sizeof(avp_desc);
        d->data_len = 64;
        d->nb_segs = 1;
        d->pkt_len = 64;
        std::memset(buf_ptr(a) + sizeof(avp_desc), 0xee, 64);
        owner_[a] = GuestFault;
        rx_next_[a] = kNoNext;
        switch (m) {
        case FaultMode::DataOutside:
            d->data = outside;
            break;
        case FaultMode::NextOutside:
            d->nb_segs = 2;
            d->pkt_len = 128;
            d->next = outside;
            break;
        case FaultMode::Oversize:
            d->data_len = 60000;
            d->pkt_len = 60000;
            break;
        case FaultMode::ChainLoop: {
            uint32_t b = stack_[--stack_n_];
            avp_desc* e = desc(b);
            std::memcpy(static_cast<void*>(e), d, sizeof(*e));
            e->data = buf_va(b) + sizeof(avp_desc);
            e->nb_segs = 1;
            e->pkt_len = 0;
            e->next = buf_va(a);  // back to the head
            owner_[b] = GuestRxSeg;
            rx_next_[a] = b;
            d->next = buf_va(b);
            d->nb_segs = AVP_MAX_SEGMENTS;
            d->pkt_len = 64 * AVP_MAX_SEGMENTS;
            break;
        }
        case FaultMode::NbSegsLie:
            d->nb_segs = 3;
            d->pkt_len = 192;
            d->next = 0;
            break;
        default:
            break;
        }
        slot = buf_va(a);
    }
    if (q.put(&slot, 1) == 1) {
        bump(counters.faults_injected);
        signal_queue(0);
        return true;
    }
    if (m != FaultMode::SlotOutside) reclaim_rx(slot);
    return false;
}

// A guest fills alloc buffers with its frames: every host address and the
// room behind it must be checked first, and no stale field of the host's
// may be trusted (it writes them all). Buffers a careful guest refuses stay
// with it until the port is rebuilt (migration attach); usable ones come
// back on tx like any other.
bool Port::inject_alloc_fault(FaultMode m) {
    Fifo& q = alloc_[0];
    if (alloc_index_fault_) return true;
    if (q.free_space() == 0) return false;
    uint64_t slot = pool_va_ + pool_size_ + (1ull << 32);  // in no segment of the map
    if (m != FaultMode::AllocOutside) {
        if (stack_n_ == 0) return false;
        uint32_t a = stack_[--stack_n_];
        avp_desc* d = desc(a);
        d->pkt_mbuf = a;
        d->next = 0;
        d->data = buf_va(a) + sizeof(avp_desc);
        d->data_len = 0;
        d->nb_segs = 1;
        d->pkt_len = 0;
        d->ol_flags = 0;
        d->vlan_tci = 0;
        owner_[a] = GuestAlloc;
        switch (m) {
        case FaultMode::AllocDataOutside:
            d->data = slot;
            owner_[a] = GuestFault;
            break;
        case FaultMode::AllocShortRoom:
            // Inside the pool, but too near its end for mbuf_size bytes.
            d->data = pool_va_ + pool_size_ - 64;
            owner_[a] = GuestFault;
            break;
        case FaultMode::AllocChainLoop:
            d->next = buf_va(a);
            d->nb_segs = AVP_MAX_SEGMENTS;
            d->pkt_len = static_cast<uint16_t>(5 * cfg_.mbuf_size);
            break;
        case FaultMode::AllocGarbage:
            d->data_len = 0xffff;
            d->pkt_len = 0xffff;
            d->nb_segs = 0xff;
            d->ol_flags = 0xffff;
            d->vlan_tci = 0xffff;
            d->next = slot;
            break;
        default:
            break;
        }
        slot = buf_va(a);
    }
    if (q.put(&slot, 1) != 1) {
        if (m != FaultMode::AllocOutside) give_back(static_cast<uint32_t>(index_of(slot)));
        return false;
    }
    bump(counters.faults_injected);
    signal_queue(0);
    return true;
}

}  // namespace avpsw
