# Sourced by the avp-kmod-* scenarios (after lib.sh): the AVP kernel driver on
# two ivshmem devices (plain, or doorbell with interrupts) backed by
# avp-switch ports a and b, which the switch pairs. Interface a stays in the
# initial network namespace, b goes into a namespace of its own, so traffic
# between them must cross the switch. A scenario with one device (a, to the
# host's stack through the switch's TAP) sets AVP_DEVICES=1 first.
KO=/opt/gsdk/modules/avp_net.ko
ADDR_A=10.77.0.1
ADDR_B=10.77.0.2
NS_PID=
AVP_DEVICES=${AVP_DEVICES:-2}

# The two 1af4:1110 devices in PCI order (QEMU gives a the lower slot).
avp_pci_devices() {
    for d in /sys/bus/pci/devices/*; do
        if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
            echo "${d##*/}"
        fi
    done
}
set -- $(avp_pci_devices)
[ $# = "$AVP_DEVICES" ] || { echo "GSDK: expected $AVP_DEVICES 1af4:1110 devices, found: $*"; exit 1; }
DEV_A=$1 DEV_B=${2:-}

in_ns() { nsenter -t "$NS_PID" -n "$@"; }
netdev_of() { ls "/sys/bus/pci/devices/$1/net" 2>/dev/null | head -n1; }
has_netdevs() { [ -n "$(netdev_of "$DEV_A")" ] && { [ -z "$DEV_B" ] || [ -n "$(netdev_of "$DEV_B")" ]; }; }
# stat IFNAME NAME [ns]: one `ethtool -S` counter
stat_of() {
    if [ "$3" = ns ]; then
        in_ns ethtool -S "$1" | sed -n "s/^ *$2: //p"
    else
        ethtool -S "$1" | sed -n "s/^ *$2: //p"
    fi
}
carrier_a() { [ "$(cat "/sys/class/net/$IF_A/carrier" 2>/dev/null)" = 1 ]; }
# (sysfs shows the initial namespace's devices: ask ip inside the namespace)
carrier_b() { in_ns ip link show "$IF_B" 2>/dev/null | grep -q 'LOWER_UP'; }

# No splat of any kind in the kernel log.
dmesg_clean() {
    if dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|RIP:'; then
        return 1
    fi
    return 0
}

# load_driver [PARAMS...]: insmod; both interfaces appear.
load_driver() {
    insmod "$KO" "$@" || return 1
    wait_until 20 has_netdevs
}

# up_pair MTU: addresses, the namespace for b, both up with carrier.
up_pair() {
    if [ -z "$NS_PID" ]; then
        unshare -n sleep 100000 3>&- &
        NS_PID=$!
        wait_until 5 test -e "/proc/$NS_PID/ns/net" || return 1
        sleep 0.2
        in_ns ip link set lo up
        # IPv6 would add its own frames at random moments (DAD, router
        # solicitations) to counters the scenarios compare.
        in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
    IF_A=$(netdev_of "$DEV_A")
    IF_B=$(netdev_of "$DEV_B")
    [ -n "$IF_A" ] && [ -n "$IF_B" ] || return 1
    ip link set "$IF_B" netns "$NS_PID" || return 1
    ip link set "$IF_A" mtu "$1" && ip addr add "$ADDR_A/24" dev "$IF_A" && ip link set "$IF_A" up || return 1
    in_ns ip link set "$IF_B" mtu "$1" && in_ns ip addr add "$ADDR_B/24" dev "$IF_B" &&
        in_ns ip link set "$IF_B" up || return 1
    wait_until 20 carrier_a && wait_until 20 carrier_b
}

# set_mtu MTU: on both interfaces
set_mtu() {
    ip link set "$IF_A" mtu "$1" && in_ns ip link set "$IF_B" mtu "$1"
}

# transfer BYTES [PAUSE_US] [PROGRESS_FILE]: TCP from a to b, byte-exact.
# Leaves the receiver's log in /tmp/recv.log.
start_receiver() {
    rm -f /tmp/recv.log /tmp/progress
    in_ns timeout -k 5 100 avp_netcheck recv 5001 "$1" ${2:+"$2"} > /tmp/recv.log 2>&1 3>&- &
    RECV_PID=$!
    wait_until 10 grep -q '^listening' /tmp/recv.log
}
finish_transfer() {
    wait "$RECV_PID"
    status=$?
    sed 's#^#recv| #' /tmp/recv.log
    [ "$status" = 0 ] && grep -q "^result mode=recv received=$1 expected=$1 first_bad=-1 " /tmp/recv.log
}
transfer() {
    start_receiver "$1" || return 1
    timeout -k 5 100 avp_netcheck send "$ADDR_B" 5001 "$1" ${2:+"$2"} 3>&- | sed 's#^#send| #'
    finish_transfer "$1"
}
# transfer_to_a BYTES: TCP from b to a, byte-exact.
transfer_to_a() {
    rm -f /tmp/recv.log
    timeout -k 5 100 avp_netcheck recv 5002 "$1" > /tmp/recv.log 2>&1 3>&- &
    pid=$!
    wait_until 10 grep -q '^listening' /tmp/recv.log || return 1
    in_ns timeout -k 5 100 avp_netcheck send "$ADDR_A" 5002 "$1" 3>&- | sed 's#^#send| #'
    wait "$pid"
    status=$?
    sed 's#^#recv| #' /tmp/recv.log
    [ "$status" = 0 ] && grep -q "^result mode=recv received=$1 expected=$1 first_bad=-1 " /tmp/recv.log
}

# counters_agree: both interfaces down (nothing moves), then the driver's
# totals of each must equal what the switch counted for its port.
counters_agree() {
    ip link set "$IF_A" down && in_ns ip link set "$IF_B" down || return 1
    host_step counters a "$(stat_of "$IF_A" tx_packets)" "$(stat_of "$IF_A" tx_bytes)" \
        "$(stat_of "$IF_A" rx_packets)" "$(stat_of "$IF_A" rx_bytes)" &&
    host_step counters b "$(stat_of "$IF_B" tx_packets ns)" "$(stat_of "$IF_B" tx_bytes ns)" \
        "$(stat_of "$IF_B" rx_packets ns)" "$(stat_of "$IF_B" rx_bytes ns)"
}

a_counter_above() { [ "$(stat_of "$IF_A" "$1")" -gt "$2" ]; }
# a_flowing: interface a sending and receiving frames right now
a_flowing() {
    tx=$(stat_of "$IF_A" tx_packets) rx=$(stat_of "$IF_A" rx_packets)
    wait_until 10 a_counter_above tx_packets "$((tx + 20))" && wait_until 10 a_counter_above rx_packets "$((rx + 20))"
}
# reload_under_traffic UP_COMMAND...: with frames flowing on a, rmmod and
# insmod the driver and bring the interfaces back with UP_COMMAND
reload_under_traffic() {
    a_flowing || { echo "GSDK: no traffic before rmmod"; return 1; }
    timeout -k 5 30 rmmod avp_net || { echo "GSDK: rmmod failed"; return 1; }
    load_driver || { echo "GSDK: insmod failed"; return 1; }
    "$@" || { echo "GSDK: the interfaces did not come back"; return 1; }
}
