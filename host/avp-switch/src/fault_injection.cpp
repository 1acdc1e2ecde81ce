// Hostile-host modes: descriptors a correct guest must refuse without a wild
// access. Run on the datapath thread because the rx FIFO has one producer.
#include <cstring>

#include "port.hpp"

namespace avpsw {

void Port::inject_ring_fault(FaultMode m) {
    Fifo& q = rx_[0];
    if (m == FaultMode::Clear) {
        if (rx_index_fault_) {
            q.force_write_index(saved_rx_write_);
            rx_index_fault_ = false;
        }
        return;
    }
    if (m == FaultMode::FifoIndex) {
        if (!rx_index_fault_) {
            saved_rx_write_ = q.write_index();
            rx_index_fault_ = true;
        }
        q.force_write_index(cfg_.fifo_len + 5);
        bump(counters.faults_injected);
        return;
    }
    if (rx_index_fault_ || q.free_space() == 0) return;

    uint64_t outside = pool_va_ + pool_size_ + (1ull << 32);  // in no segment of the map
    uint64_t slot = outside;
    if (m != FaultMode::SlotOutside) {
        uint32_t need = m == FaultMode::ChainLoop ? 2 : 1;
        if (stack_n_ < need) return;
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
    if (q.put(&slot, 1) == 1)
        bump(counters.faults_injected);
    else if (m != FaultMode::SlotOutside)
        reclaim_rx(slot);
}

}  // namespace avpsw
