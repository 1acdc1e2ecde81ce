# A hostile host against the AVP kernel driver: the switch's fault modes put
# descriptors on b's receive FIFO whose slot, data or next lies outside the
# shared memory, whose lengths lie, whose chain loops or ends early, and an
# out-of-range FIFO index; then it breaks the magics a probe checks. The
# driver must count each in `ethtool -S`, never follow one (no oops, no
# WARNING), and carry traffic byte-exact afterwards.
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

BYTES=2000000

counter_b() { stat_of "$IF_B" "$1" ns; }
counter_above() { [ "$(counter_b "$1")" -gt "$2" ]; }
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

check "rx FIFO write index out of range: counted" ring_fault fifo-index rx_bad_index_errors
check "fault cleared" host_step fault b clear
check "traffic flows to b again" wait_until 20 ping_b

check "byte-exact transfer a -> b after the faults" transfer "$BYTES"
check "the switch saw no bad return on b's free FIFO" host_step expect b free_errors=0 rx_errors=0 "faults_injected>=21"

# Probe-time checks: a broken magic refuses the device, with the cause logged.
ip link set "$IF_A" down
check "device info magic broken: probe refused" probe_refused devinfo-magic "AVP device refused: bad device info magic"
check "memory map magic broken: probe refused" probe_refused memmap-magic "AVP device refused: bad memory map magic"
check "region magic broken: not taken as an AVP" probe_refused region-magic "not an AVP device (no AVP region magic)"
check "b is back" wait_until 10 test -d "/sys/bus/pci/devices/$DEV_B/net"
check "rmmod" timeout -k 5 30 rmmod avp_net
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
