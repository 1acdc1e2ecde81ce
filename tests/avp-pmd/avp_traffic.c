/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small DPDK program for the AVP tests: sends numbered frames of the given
 * sizes on one port and checks that they arrive on another byte-exact and in
 * order, then prints every port's xstats. Usage:
 *   avp_traffic <EAL args> -- --tx P --rx Q [--sizes 64,1500,9000] [--count N]
 *       [--seconds S] [--allow-loss] [--min-received N] [--stray N] [--vlan TCI]
 *       [--no-check] [--window N] [--queues N] [--ctl-requests N]
 * --seconds keeps sending for S seconds (migration tests); --allow-loss accepts
 * gaps in the sequence but never corruption, duplicates or reordering;
 * --stray sends N extra frames to a unicast address nobody owns, which the
 * receiving driver must filter; --no-check only moves traffic (hostile host);
 * --ctl-requests sets the sending port's MTU N times after the traffic (each
 * a control request to the host) and prints each result.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */
#define MAX_SIZES 8
#define BURST 32
#define SEG_ROOM 2048

struct opts {
    uint16_t tx, rx;
    uint32_t sizes[MAX_SIZES];
    unsigned int nb_sizes;
    uint64_t count;
    double seconds;
    bool allow_loss, check, vlan;
    uint16_t tci;
    uint64_t min_received;
    uint64_t stray;
    uint64_t window; /* frames in flight at most (0: no limit) */
    uint16_t queues; /* queues per port; order is only kept within one */
    unsigned int ctl_requests;
};

struct tally {
    uint64_t sent, received, lost, corrupt, reordered, stray_seen;
    uint64_t next_seq; /* next sequence number expected */
};

static volatile bool stop;

static void on_signal(int sig) { stop = true; }

static uint8_t pattern(uint64_t seq, uint32_t i) { return (uint8_t)(seq * 31 + i * 7 + (i >> 8)); }

static uint32_t size_of(const struct opts* o, uint64_t seq) { return o->sizes[seq % o->nb_sizes]; }

/* Builds frame `seq` as a chain of SEG_ROOM-byte mbufs (so 9000 bytes is 5 of them). */
static struct rte_mbuf* build(struct rte_mempool* mp, const struct opts* o, uint64_t seq,
                              const struct rte_ether_addr* dst, const struct rte_ether_addr* src) {
    uint32_t len = size_of(o, seq), off = 0;
    struct rte_mbuf *head = NULL, *last = NULL;

    while (off < len) {
        struct rte_mbuf* m = rte_pktmbuf_alloc(mp);
        uint32_t n = RTE_MIN(len - off, (uint32_t)SEG_ROOM);
        uint8_t* p;
        uint32_t i;

        if (m == NULL) {
            rte_pktmbuf_free(head);
            return NULL;
        }
        p = (uint8_t*)rte_pktmbuf_append(m, n);
        for (i = 0; i < n; i++) p[i] = pattern(seq, off + i);
        if (head == NULL) {
            head = m;
        } else {
            last->next = m;
            head->nb_segs++;
            head->pkt_len += n;
        }
        last = m;
        off += n;
    }
    {
        uint8_t* p = rte_pktmbuf_mtod(head, uint8_t*);

        memcpy(p, dst, 6);
        memcpy(p + 6, src, 6);
        p[12] = ETHERTYPE_TEST >> 8;
        p[13] = ETHERTYPE_TEST & 0xff;
        memcpy(p + 14, &seq, sizeof(seq));
        memcpy(p + 22, &len, sizeof(len));
    }
    if (o->vlan) {
        head->ol_flags |= RTE_MBUF_F_TX_VLAN;
        head->vlan_tci = o->tci;
    }
    return head;
}

static bool frame_ok(const struct opts* o, struct rte_mbuf* m, uint64_t seq, uint32_t len) {
    uint8_t buf[16384];
    const uint8_t* p;
    uint32_t i;

    if (len != size_of(o, seq) || m->pkt_len != len) return false;
    p = rte_pktmbuf_read(m, 0, len, buf);
    if (p == NULL) return false;
    for (i = 26; i < len; i++)
        if (p[i] != pattern(seq, i)) return false;
    if (o->vlan && (!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) || m->vlan_tci != o->tci)) return false;
    return true;
}

static void check(const struct opts* o, struct tally* t, struct rte_mbuf* m) {
    uint8_t hdr[26];
    const uint8_t* p = rte_pktmbuf_read(m, 0, sizeof(hdr), hdr);
    uint64_t seq;
    uint32_t len;

    t->received++;
    if (!o->check) return;
    if (p == NULL || p[12] != (ETHERTYPE_TEST >> 8) || p[13] != (ETHERTYPE_TEST & 0xff)) {
        t->corrupt++;
        return;
    }
    memcpy(&seq, p + 14, sizeof(seq));
    memcpy(&len, p + 22, sizeof(len));
    if (seq == UINT64_MAX) { /* a stray frame got through the filter */
        t->stray_seen++;
        return;
    }
    if (!frame_ok(o, m, seq, len)) {
        t->corrupt++;
        fprintf(stderr, "frame %" PRIu64 ": bad contents (len %u, mbuf %u, segs %u)\n", seq, len, m->pkt_len,
                m->nb_segs);
        return;
    }
    if (seq < t->next_seq) {
        t->reordered++;
        if (o->queues == 1)
            fprintf(stderr, "frame %" PRIu64 " after %" PRIu64 "\n", seq, t->next_seq - 1);
        else if (t->lost > 0)
            t->lost--; /* it was counted as a gap when a later one overtook it */
        return;
    }
    t->lost += seq - t->next_seq;
    t->next_seq = seq + 1;
}

static void print_xstats(uint16_t port) {
    int n = rte_eth_xstats_get_names(port, NULL, 0), i;
    struct rte_eth_xstat_name* names;
    struct rte_eth_xstat* xs;

    if (n <= 0) return;
    names = calloc(n, sizeof(*names));
    xs = calloc(n, sizeof(*xs));
    if (names && xs && rte_eth_xstats_get_names(port, names, n) == n && rte_eth_xstats_get(port, xs, n) == n)
        for (i = 0; i < n; i++) printf("xstat port=%u %s=%" PRIu64 "\n", port, names[i].name, xs[i].value);
    free(names);
    free(xs);
}

static int parse(int argc, char** argv, struct opts* o) {
    static const struct option lo[] = {
        {"tx", 1, 0, 't'},           {"rx", 1, 0, 'r'},      {"sizes", 1, 0, 's'},
        {"count", 1, 0, 'c'},        {"seconds", 1, 0, 'S'}, {"allow-loss", 0, 0, 'l'},
        {"min-received", 1, 0, 'm'}, {"stray", 1, 0, 'x'},   {"vlan", 1, 0, 'v'},
        {"no-check", 0, 0, 'n'},     {"window", 1, 0, 'w'},  {"queues", 1, 0, 'q'},
        {"ctl-requests", 1, 0, 'C'}, {0, 0, 0, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->rx = 1;
    o->count = 1000;
    o->check = true;
    o->queues = 1;
    o->sizes[0] = 64;
    o->nb_sizes = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 't':
            o->tx = atoi(optarg);
            break;
        case 'r':
            o->rx = atoi(optarg);
            break;
        case 'c':
            o->count = strtoull(optarg, NULL, 10);
            break;
        case 'S':
            o->seconds = atof(optarg);
            break;
        case 'l':
            o->allow_loss = true;
            break;
        case 'm':
            o->min_received = strtoull(optarg, NULL, 10);
            break;
        case 'x':
            o->stray = strtoull(optarg, NULL, 10);
            break;
        case 'v':
            o->vlan = true;
            o->tci = atoi(optarg);
            break;
        case 'n':
            o->check = false;
            break;
        case 'w':
            o->window = strtoull(optarg, NULL, 10);
            break;
        case 'q':
            o->queues = atoi(optarg);
            break;
        case 'C':
            o->ctl_requests = atoi(optarg);
            break;
        case 's': {
            char *s = optarg, *tok;

            o->nb_sizes = 0;
            while ((tok = strsep(&s, ",")) != NULL && o->nb_sizes < MAX_SIZES) {
                uint32_t v = atoi(tok);

                if (v < 64 || v > 16000) {
                    fprintf(stderr, "size %s out of 64..16000\n", tok);
                    return -1;
                }
                o->sizes[o->nb_sizes++] = v;
            }
            break;
        }
        default:
            return -1;
        }
    }
    return o->nb_sizes ? 0 : -1;
}

static int port_up(uint16_t port, struct rte_mempool* mp, const struct opts* o) {
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    int ret;

    memset(&conf, 0, sizeof(conf));
    ret = rte_eth_dev_info_get(port, &info);
    if (ret) return ret;
    if (o->vlan) {
        conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
    }
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    for (unsigned int i = 0; i < o->nb_sizes; i++)
        if (o->sizes[i] - RTE_ETHER_HDR_LEN > RTE_MAX(conf.rxmode.mtu, (uint32_t)RTE_ETHER_MTU))
            conf.rxmode.mtu = o->sizes[i] - RTE_ETHER_HDR_LEN;
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    if (conf.rxmode.mtu > info.max_mtu) conf.rxmode.mtu = info.max_mtu; /* bigger frames test the oversize path */
    /* Other drivers (DPDK's net_avp) run this too: ask only for what they offer. */
    conf.rxmode.offloads &= info.rx_offload_capa;
    conf.txmode.offloads &= info.tx_offload_capa;
    ret = rte_eth_dev_configure(port, o->queues, o->queues, &conf);
    for (uint16_t q = 0; ret == 0 && q < o->queues; q++) {
        ret = rte_eth_rx_queue_setup(port, q, 512, rte_socket_id(), NULL, mp);
        if (ret == 0) ret = rte_eth_tx_queue_setup(port, q, 512, rte_socket_id(), NULL);
    }
    if (ret == 0) ret = rte_eth_dev_start(port);
    /* Unicast filtering is part of what we check: stay out of promiscuous mode. */
    if (ret == 0) ret = rte_eth_promiscuous_disable(port);
    if (ret) fprintf(stderr, "port %u: set-up failed: %s\n", port, strerror(-ret));
    return ret;
}

int main(int argc, char** argv) {
    struct rte_ether_addr dst, src, nobody = {{0x02, 0, 0, 0xde, 0xad, 0x01}};
    struct rte_mbuf* burst[BURST];
    struct rte_mempool* mp;
    struct tally t = {0};
    uint64_t seq = 0, end_tsc, quiet_until, round = 0;
    struct opts o;
    uint16_t port;
    int ret, status = 0;

    ret = rte_eal_init(argc, argv);
    if (ret < 0) {
        fprintf(stderr, "EAL init failed\n");
        return 2;
    }
    if (parse(argc - ret, argv + ret, &o) < 0) {
        fprintf(stderr, "bad options\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (!rte_eth_dev_is_valid_port(o.tx) || !rte_eth_dev_is_valid_port(o.rx)) {
        fprintf(stderr, "ports %u/%u not present (%u ports)\n", o.tx, o.rx, rte_eth_dev_count_avail());
        return 2;
    }
    mp = rte_pktmbuf_pool_create("traffic", 8191, 256, 0, SEG_ROOM + RTE_PKTMBUF_HEADROOM, rte_socket_id());
    if (mp == NULL) return 2;
    RTE_ETH_FOREACH_DEV(port)
    if (port_up(port, mp, &o)) return 2;
    RTE_ETH_FOREACH_DEV(port) {
        struct rte_eth_link link;

        if (rte_eth_link_get_nowait(port, &link) == 0) printf("link port=%u up=%u\n", port, link.link_status);
    }
    rte_eth_macaddr_get(o.rx, &dst);
    rte_eth_macaddr_get(o.tx, &src);

    end_tsc = rte_get_timer_cycles() + (uint64_t)(o.seconds * rte_get_timer_hz());
    for (;;) {
        bool sending = !stop && (o.seconds > 0 ? rte_get_timer_cycles() < end_tsc : seq < o.count);
        uint16_t n = 0, sent, i, got;
        /* A window keeps an unretried forwarder (testpmd io) from overrunning. */
        bool open = o.window == 0 || t.sent - t.received + BURST <= o.window;

        while (sending && open && n < BURST && (o.seconds > 0 || seq + n < o.count)) {
            burst[n] = build(mp, &o, seq + n, &dst, &src);
            if (burst[n] == NULL) break;
            n++;
        }
        sent = rte_eth_tx_burst(o.tx, (uint16_t)(round % o.queues), burst, n);
        round++;
        /* Unsent frames are rebuilt with the same numbers next round. */
        rte_pktmbuf_free_bulk(burst + sent, n - sent);
        seq += sent;
        t.sent += sent;
        for (uint16_t q = 0; q < o.queues; q++) {
            got = rte_eth_rx_burst(o.rx, q, burst, BURST);
            for (i = 0; i < got; i++) {
                check(&o, &t, burst[i]);
                rte_pktmbuf_free(burst[i]);
            }
        }
        if (!sending) break;
    }
    /* Strays go last so they cannot hide behind the numbered frames. */
    for (uint64_t k = 0; k < o.stray; k++) {
        struct opts one = o;
        struct rte_mbuf* m;

        one.sizes[0] = 64;
        one.nb_sizes = 1;
        m = build(mp, &one, UINT64_MAX, &nobody, &src);
        /* Host buffers may all be in flight: retry (receiving meanwhile). */
        for (int tries = 0; m != NULL && tries < 100000; tries++) {
            uint16_t got, i;

            if (rte_eth_tx_burst(o.tx, 0, &m, 1) == 1) {
                m = NULL;
                break;
            }
            got = rte_eth_rx_burst(o.rx, 0, burst, BURST);
            for (i = 0; i < got; i++) {
                check(&o, &t, burst[i]);
                rte_pktmbuf_free(burst[i]);
            }
        }
        rte_pktmbuf_free(m);
    }
    /* Drain: stop once nothing arrived for half a second. */
    quiet_until = rte_get_timer_cycles() + rte_get_timer_hz() / 2;
    while (rte_get_timer_cycles() < quiet_until) {
        uint16_t got = 0, n, i;

        for (uint16_t q = 0; q < o.queues; q++) {
            n = rte_eth_rx_burst(o.rx, q, burst, BURST);
            for (i = 0; i < n; i++) {
                check(&o, &t, burst[i]);
                rte_pktmbuf_free(burst[i]);
            }
            got += n;
        }
        if (got) quiet_until = rte_get_timer_cycles() + rte_get_timer_hz() / 2;
    }
    if (o.check) t.lost += seq - t.next_seq;
    for (unsigned int k = 0; k < o.ctl_requests; k++) {
        /* Alternating values, so that no layer can skip a request as a no-op. */
        ret = rte_eth_dev_set_mtu(o.tx, k % 2 ? RTE_ETHER_MTU : RTE_ETHER_MTU - 100);
        printf("ctl port=%u request=%u rc=%d\n", o.tx, k, ret);
    }

    printf("result sent=%" PRIu64 " received=%" PRIu64 " lost=%" PRIu64 " corrupt=%" PRIu64 " reordered=%" PRIu64
           " stray_seen=%" PRIu64 " next=%" PRIu64 "\n",
           t.sent, t.received, t.lost, t.corrupt, t.reordered, t.stray_seen, t.next_seq);
    RTE_ETH_FOREACH_DEV(port)
    print_xstats(port);
    if (o.check) {
        /* Across queues AVP keeps no order; within the test it must be exact. */
        if (t.corrupt || (o.queues == 1 && t.reordered) || t.stray_seen) status = 1;
        if (!o.allow_loss && (t.lost || t.received != t.sent)) status = 1;
        if (t.received < o.min_received || t.received == 0) status = 1;
    }
    RTE_ETH_FOREACH_DEV(port) {
        struct rte_eth_link link;

        rte_eth_dev_stop(port);
        if (rte_eth_link_get_nowait(port, &link) == 0)
            printf("link-after-stop port=%u up=%u\n", port, link.link_status);
        rte_eth_dev_close(port);
    }
    rte_mempool_free(mp);
    rte_eal_cleanup();
    printf("%s\n", status ? "FAIL" : "PASS");
    return status;
}
