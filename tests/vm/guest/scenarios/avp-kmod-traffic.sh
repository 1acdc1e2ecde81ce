# The AVP kernel driver (avp_net.ko) on two ivshmem-plain devices served by
# avp-switch (ports a and b, paired): probe, ethtool, byte-exact TCP both ways
# at MTU 1500 and 9000 through the switch with TSO on (cut by the driver)
# and off, counters equal to the switch's.
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

BYTES=3000000

check "avp_net.ko loads and makes two interfaces" load_driver
check "both devices report the ivshmem profile" \
    test "$(dmesg | grep -c 'avp_net .*AVP ivshmem PCI profile')" = 2
check "interfaces up with carrier (MTU 1500)" up_pair 1500

check "ethtool -i names the driver" sh -c "ethtool -i $IF_A | grep -qx 'driver: avp_net'"
check "ethtool -i names the PCI device" sh -c "ethtool -i $IF_A | grep -qx 'bus-info: $DEV_A'"
check "ethtool -l: 4 combined channels (-smp 4, the switch offers 4)" \
    sh -c "ethtool -l $IF_A | grep -A4 '^Current' | grep -qE '^Combined:[[:space:]]+4$'"
check "ethtool -g: 1023-slot FIFOs" sh -c "ethtool -g $IF_A | grep -A2 '^Current' | grep -qE '^RX:[[:space:]]+1023$'"
check "ethtool reports the link up" sh -c "ethtool $IF_A | grep -q 'Link detected: yes'"
check "ethtool -S has the DPDK driver's counter names" \
    sh -c "ethtool -S $IF_A | grep -q 'rx_bad_address_errors: 0' && ethtool -S $IF_A | grep -q 'tx_q3_packets:'"
check "the switch sees a kernel driver, up, 4 queues" \
    host_step expect a driver_type=2 guest_state=up num_tx_queues=4 num_rx_queues=4 mtu=1500

# pool_frames_b_is N: b counts rx_pool_frames, and N of them
pool_frames_b_is() { [ -n "$1" ] && [ "$(stat_of "$IF_B" rx_pool_frames ns)" = "$1" ]; }
POOL_B=$(stat_of "$IF_B" rx_pool_frames ns)
check "ping b from a" timeout -k 5 30 ping -c 3 -W 5 "$ADDR_B"
check "pings (98-byte frames) skip the page pool" pool_frames_b_is "$POOL_B"
check "MTU 1500, TSO on: $BYTES bytes a -> b byte-exact" transfer "$BYTES"
# each frame carries at most 1448 bytes of the stream: all of them, at
# least $BYTES / 1500, landed in page-pool pages
check "the stream's frames were received into page-pool pages" \
    test "$(($(stat_of "$IF_B" rx_pool_frames ns) - POOL_B))" -ge $((BYTES / 1500))
# tso_is on|off: what ethtool -k says of TSO on a and on b
tso_is() {
    ethtool -k "$IF_A" | grep -qx "tcp-segmentation-offload: $1" &&
        in_ns ethtool -k "$IF_B" | grep -qx "tcp-segmentation-offload: $1"
}
# tso_set on|off: ethtool -K on a and on b, then ethtool -k agrees
tso_set() {
    ethtool -K "$IF_A" tso "$1" && in_ns ethtool -K "$IF_B" tso "$1" && tso_is "$1"
}
# TCP hands the driver skbs of several frames whenever it has them queued;
# a driver that advertised TSO but never cut an skb itself counts none.
tso_used_by_both() {
    [ "$(stat_of "$IF_A" tx_tso_skbs)" -gt 0 ] && [ "$(stat_of "$IF_B" tx_tso_skbs ns)" -gt 0 ] &&
        [ "$(stat_of "$IF_A" tx_tso_segments)" -gt "$(stat_of "$IF_A" tx_tso_skbs)" ]
}
tso_skbs_a_is() { [ "$(stat_of "$IF_A" tx_tso_skbs)" "$1" "$2" ]; }

check "TSO on by default (a and b)" tso_is on
check "MTU 1500, TSO on: $BYTES bytes b -> a byte-exact" transfer_to_a "$BYTES"
check "TSO used: a and b cut TCP skbs into frames themselves" tso_used_by_both
check "ethtool -K tso off (a and b)" tso_set off
TSO_A=$(stat_of "$IF_A" tx_tso_skbs)
check "MTU 1500, TSO off: $BYTES bytes a -> b byte-exact" transfer "$BYTES"
check "MTU 1500, TSO off: $BYTES bytes b -> a byte-exact" transfer_to_a "$BYTES"
check "TSO off: a cut no skb (the stack segmented them)" tso_skbs_a_is = "$TSO_A"
check "ethtool -K tso on again (a and b)" tso_set on

check "MTU 9000 on both" set_mtu 9000
check "the switch took MTU 9000 for both ports" host_step expect a mtu=9000
check "the switch took MTU 9000 for b" host_step expect b mtu=9000
check "9000-byte pings (5-segment chains)" timeout -k 5 30 ping -c 3 -W 5 -s 8972 "$ADDR_B"
TSO_A=$(stat_of "$IF_A" tx_tso_skbs)
check "MTU 9000, TSO on: $BYTES bytes a -> b byte-exact" transfer "$BYTES"
check "MTU 9000, TSO on: $BYTES bytes b -> a byte-exact" transfer_to_a "$BYTES"
check "MTU 9000: TSO cut skbs into chained frames" tso_skbs_a_is -gt "$TSO_A"
check "MTU 9000 jumbo frames were sent (bytes/packet > 1500)" sh -c "
    p=\$(ethtool -S $IF_A | sed -n 's/^ *tx_packets: //p'); b=\$(ethtool -S $IF_A | sed -n 's/^ *tx_bytes: //p')
    [ \$((b / p)) -gt 1500 ]"
check "MTU 9216 (the host's largest) accepted, 9217 refused" sh -c "
    ip link set $IF_A mtu 9216 && ! ip link set $IF_A mtu 9217 2>/dev/null && ip link set $IF_A mtu 9000"

check "no transmit or receive errors counted" sh -c "
    for c in rx_bad_address_errors rx_bad_length_errors rx_bad_chain_errors tx_oversize_dropped tx_detached_dropped tx_bad_alloc_buffers ctrl_timeouts ctrl_errors; do
        [ \"\$(ethtool -S $IF_A | sed -n \"s/^ *\$c: //p\")\" = 0 ] || { echo \"\$c not 0\"; exit 1; }
    done"
check "the driver's counters equal the switch's (a and b)" counters_agree
check "the switch saw no bad descriptor or return" host_step expect a rx_errors=0 free_errors=0 ctl_errors=0
check "no bad descriptor or return from b" host_step expect b rx_errors=0 free_errors=0 ctl_errors=0
check "the switch sees both interfaces down" host_step expect b guest_state=down
check "rmmod avp_net" timeout -k 5 30 rmmod avp_net
check "the switch sees the driver shut the device down" host_step expect a guest_state=shutdown
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
