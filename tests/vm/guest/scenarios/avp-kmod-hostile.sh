# A hostile host against the AVP kernel driver, every fault mode of the
# switch on b: descriptors on the receive FIFO whose slot, data or next lies
# outside the shared memory, whose lengths lie, whose chain loops or ends
# early; buffers on the alloc FIFO (transmit) outside the memory, with too
# little room, or with stale chain fields and garbage lengths; out-of-range
# rx, alloc and free FIFO indices; control answers naming another address
# or carrying no errno; then broken magics at probe. The driver must count
# each in `ethtool -S`, never follow one (no oops, no WARNING), and carry
# traffic byte-exact throughout.
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

BYTES=2000000

counter_b() { stat_of "$IF_B" "$1" ns; }
counter_above() { [ "$(counter_b "$1")" -gt "$2" ]; }
# index_fault MODE COUNTER: an index beyond the ring is one episode, counted once
# (while traffic runs in the background to make the driver look)
index_fault() {
    before=$(counter_b "$2")
    host_step fault b "$1" || return 1
    wait_until 30 counter_above "$2" "$before" || { echo "GSDK: $2 stayed at $before"; return 1; }
    echo "GSDK: $1: $2 $before -> $(counter_b "$2")"
}
# b_to_a_start BYTES [PAUSE_US]: TCP from b to a in the background (b transmits)
b_to_a_start() {
    rm -f /tmp/recv_a.log
    timeout -k 5 100 avp_netcheck recv 5002 "$1" > /tmp/recv_a.log 2>&1 3>&- &
    RECV_A=$!
    wait_until 10 grep -q '^listening' /tmp/recv_a.log || return 1
    in_ns timeout -k 5 100 avp_netcheck send "$ADDR_A" 5002 "$1" ${2:+"$2"} > /tmp/send_b.log 2>&1 3>&- &
    SEND_B=$!
}
b_to_a_finish() {
    wait "$SEND_B"
    wait "$RECV_A"
    st=$?
    sed 's#^#recv a| #' /tmp/recv_a.log
    [ "$st" = 0 ] && grep -q "^result mode=recv received=$1 expected=$1 first_bad=-1 " /tmp/recv_a.log
}
# a_to_b_start BYTES [PAUSE_US]: TCP from a to b in the background (b receives)
a_to_b_start() {
    start_receiver "$1" || return 1
    timeout -k 5 100 avp_netcheck send "$ADDR_B" 5001 "$1" ${2:+"$2"} > /tmp/send_a.log 2>&1 3>&- &
    SEND_A=$!
}
a_to_b_finish() {
    wait "$SEND_A"
    finish_transfer "$1"
}
# ctrl_fault MODE: the next control answer is bad; an MTU change fails and is counted
ctrl_fault() {
    before=$(counter_b ctrl_errors)
    host_step fault b "$1" 1 || return 1
    if in_ns ip link set "$IF_B" mtu 1400 2>/dev/null; then
        echo "GSDK: the MTU change succeeded on a bad answer"
        return 1
    fi
    [ "$(counter_b ctrl_errors)" = "$((before + 1))" ] || { echo "GSDK: ctrl_errors $before -> $(counter_b ctrl_errors)"; return 1; }
    dmesg | tail -n 3 | grep -q "$IF_B: change-mtu: $2" || { echo "GSDK: no '$2' in the log"; return 1; }
}
# ring_fault MODE COUNTER: inject 3, the counter grows by at least 3
ring_fault() {
    before=$(counter_b "$2")
    host_step fault b "$1" 3 || return 1
    wait_until 10 counter_above "$2" "$((before + 2))" || { echo "GSDK: $2 stayed at $(counter_b "$2")"; return 1; }
    echo "GSDK: $1: $2 $before -> $(counter_b "$2")"
}
ping_b() { timeout -k 5 20 ping -c 1 -W 5 "$ADDR_B" > /dev/null; }
# probe_refused MODE MESSAGE: b unbound, the magic broken, a bind is refused
# with MESSAGE in the log; the magic restored, the bind works.
probe_refused() {
    echo "$DEV_B" > /sys/bus/pci/drivers/avp_net/unbind || return 1
    host_step fault b "$1" || return 1
    if echo "$DEV_B" > /sys/bus/pci/drivers/avp_net/bind 2>/dev/null; then
        echo "GSDK: bind succeeded with a broken $1"
        return 1
    fi
    dmesg | tail -n 5 | grep -q "$DEV_B: $2" || { echo "GSDK: no '$2' in the log"; return 1; }
    host_step fault b clear || return 1
    echo "$DEV_B" > /sys/bus/pci/drivers/avp_net/bind
}

check "avp_net.ko loads" load_driver
check "interfaces up with carrier" up_pair 1500
check "ping b from a" timeout -k 5 30 ping -c 2 -W 5 "$ADDR_B"

check "slot outside every pool: counted as a bad address" ring_fault slot-outside rx_bad_address_errors
check "data outside the shared memory: bad address" ring_fault data-outside rx_bad_address_errors
check "next outside the shared memory: bad address" ring_fault next-outside rx_bad_address_errors
check "60000-byte lengths: bad length" ring_fault oversize rx_bad_length_errors
check "a chain looping back to its head: bad chain" ring_fault chain-loop rx_bad_chain_errors
check "nb_segs 3 with the chain ending after 1: bad chain" ring_fault nb-segs-lie rx_bad_chain_errors
check "traffic still flows to b" ping_b
check "none of them reached the stack as a frame" sh -c "
    [ \"\$(nsenter -t $NS_PID -n ethtool -S $IF_B | sed -n 's/^ *rx_alloc_errors: //p')\" = 0 ]"

check "rx FIFO write index out of range: counted once" index_fault fifo-index rx_bad_index_errors
check "fault cleared" host_step fault b clear
check "traffic flows to b again" wait_until 20 ping_b

check "byte-exact transfer a -> b after the rx faults" transfer "$BYTES"

# Transmit path: b on one queue, so that everything b sends takes buffers
# from alloc FIFO 0, where the switch puts its faults. The faults queue up
# behind the buffers b holds already, so b sends while they are injected.
check "b down to one queue" in_ns ethtool -L "$IF_B" combined 1
check "b sends to a in the background" b_to_a_start 8000000 10000
for mode in alloc-outside alloc-data-outside alloc-short-room alloc-chain-loop alloc-garbage; do
    check "$mode: 3 injected while b sends" host_step fault b "$mode" 3
done
check "the transfer from b arrived byte-exact" b_to_a_finish 8000000
check "9 unusable alloc buffers refused and counted (outside, data outside, short room)" \
    wait_until 10 counter_above tx_bad_alloc_buffers 8
check "buffers with stale chains and garbage lengths were written over, not followed" \
    host_step expect b rx_errors=0

# (paced, so that the transfers outlast the injection: the driver notices a
# bad index only once it has used up what it saw of the ring before)
check "b sends to a again" b_to_a_start 6000000 10000
check "alloc FIFO write index out of range: counted once" index_fault alloc-index tx_bad_index_errors
check "fault cleared" host_step fault b clear
check "the transfer from b survived the stalled alloc FIFO, byte-exact" b_to_a_finish 6000000

check "a sends to b in the background" a_to_b_start 6000000 10000
check "free FIFO read index out of range: counted once" index_fault free-index rx_bad_index_errors
check "fault cleared" host_step fault b clear
check "the transfer to b survived the stalled free FIFO, byte-exact" a_to_b_finish 6000000

# Control: answers naming another address, or no errno, fail the request.
check "a control answer naming another address: refused and counted" ctrl_fault resp-address "host answered with"
check "a control answer without an errno: refused and counted" ctrl_fault resp-result "host returned nonsense result"
check "the next MTU change works" in_ns ip link set "$IF_B" mtu 1400
check "the switch took it" host_step expect b mtu=1400
check "no control request timed out" test "$(counter_b ctrl_timeouts)" = 0

check "byte-exact transfer a -> b after every fault" transfer "$BYTES"
check "the switch saw no bad return on b's free FIFO" host_step expect b free_errors=0 rx_errors=0 "faults_injected>=38"

# Probe-time checks: a broken magic refuses the device, with the cause logged.
ip link set "$IF_A" down
check "device info magic broken: probe refused" probe_refused devinfo-magic "AVP device refused: bad device info magic"
check "memory map magic broken: probe refused" probe_refused memmap-magic "AVP device refused: bad memory map magic"
check "region magic broken: not taken as an AVP" probe_refused region-magic "not an AVP device (no AVP region magic)"
check "b is back" wait_until 10 test -d "/sys/bus/pci/devices/$DEV_B/net"
check "rmmod" timeout -k 5 30 rmmod avp_net
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
