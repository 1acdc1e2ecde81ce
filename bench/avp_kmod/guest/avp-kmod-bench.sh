# Guest half of bench/avp_kmod: the AVP netdev pair (through avp-switch) and
# a virtio-net pair (through the host's tap bridge, or QEMU's socket backend)
# measured in the same guest, rounds interleaved. Prints BENCH lines for
# run.py; one side of each pair lives in a namespace of its own, so frames
# must leave the guest.
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

ROUNDS=$(sed -n 's/.*bench_rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
ROUNDS=${ROUNDS:-3}
# bench_alt=1: a second avp_net.ko, measured as transport avp-alt
ALT=$(sed -n 's/.*bench_alt=\([0-9]*\).*/\1/p' /proc/cmdline)
MAIN_KO=$KO
ALT_KO=/opt/gsdk/modules/avp_net_alt.ko
TCP_MB=$(sed -n 's/.*bench_tcp_mb=\([0-9]*\).*/\1/p' /proc/cmdline)
TCP_BYTES=$((${TCP_MB:-100} * 1000000))
UDP_SECONDS=4

virtio_devices() {
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat "$d/vendor")" = 0x1af4 ] || continue
        case "$(cat "$d/device")" in 0x1000 | 0x1041) echo "${d##*/}" ;; esac
    done
}

load_driver || { echo "GSDK: avp_net did not load"; exit 1; }
up_pair 1500 || { echo "GSDK: AVP interfaces did not come up"; exit 1; }
set -- $(virtio_devices)
[ $# = 2 ] || { echo "GSDK: expected two virtio-net devices, found: $*"; exit 1; }
# virtio-net's interface hangs below the virtio device, not the PCI function
virtio_netdev() { ls /sys/bus/pci/devices/"$1"/virtio*/net 2>/dev/null | head -n1; }
wait_until 10 test -n "$(virtio_netdev "$2")"
VIO_A=$(virtio_netdev "$1") VIO_B=$(virtio_netdev "$2")
ip link set "$VIO_B" netns "$NS_PID"
ip addr add 10.78.0.1/24 dev "$VIO_A" && ip link set "$VIO_A" up
in_ns ip addr add 10.78.0.2/24 dev "$VIO_B" && in_ns ip link set "$VIO_B" up
wait_until 20 sh -c "ping -c 1 -W 1 10.78.0.2 >/dev/null" || { echo "GSDK: virtio-net pair silent"; exit 1; }
wait_until 20 sh -c "ping -c 1 -W 1 $ADDR_B >/dev/null" || { echo "GSDK: AVP pair silent"; exit 1; }

# tcp NAME DST_ADDR: one stream from the initial namespace into b's
tcp() {
    in_ns timeout -k 5 100 avp_netcheck recv 5001 "$TCP_BYTES" > /tmp/recv.log 2>&1 3>&- &
    pid=$!
    wait_until 10 grep -q '^listening' /tmp/recv.log
    host_step cpu || return 1
    set -- "$1" "$2" $step_detail
    qemu0=$3 switch0=$4
    timeout -k 5 100 avp_netcheck send "$2" 5001 "$TCP_BYTES" > /dev/null 2>&1 3>&-
    wait "$pid"
    host_step cpu || return 1
    set -- "$1" "$2" $step_detail
    mb=$((TCP_BYTES / 1000000))
    mbit=$(sed -n 's/.* first_bad=-1 .*mbit=\([0-9.]*\)$/\1/p' /tmp/recv.log)
    echo "BENCH transport=$1 metric=tcp_mbit value=${mbit:-0}"
    if [ -n "$mbit" ]; then
        echo "BENCH transport=$1 metric=tcp_host_cpu_us_per_mb value=$((($3 - qemu0 + $4 - switch0) / mb))"
        echo "BENCH transport=$1 metric=tcp_switch_cpu_us_per_mb value=$((($4 - switch0) / mb))"
    fi
}
# udp NAME DST_ADDR: 64-byte frames (18-byte payload), received rate in b
udp() {
    in_ns timeout -k 5 100 avp_netcheck sink 5002 "$((UDP_SECONDS + 2))" > /tmp/sink.log 2>&1 3>&- &
    pid=$!
    wait_until 10 grep -q '^listening' /tmp/sink.log
    timeout -k 5 100 avp_netcheck flood "$2" 5002 18 "$UDP_SECONDS" > /tmp/flood.log 2>&1 3>&-
    wait "$pid"
    pps=$(sed -n 's/.* pps=\([0-9]*\)$/\1/p' /tmp/sink.log)
    sent=$(sed -n 's/.* pps=\([0-9]*\)$/\1/p' /tmp/flood.log)
    echo "BENCH transport=$1 metric=udp64_rx_pps value=${pps:-0} sent_pps=${sent:-0}"
}

# use_ko KO: that build of avp_net loaded, the AVP pair up again
LOADED=$KO
use_ko() {
    [ "$LOADED" = "$1" ] && return 0
    timeout -k 5 30 rmmod avp_net || return 1
    KO=$1
    load_driver && up_pair 1500 || return 1
    LOADED=$1
    wait_until 20 sh -c "ping -c 1 -W 1 $ADDR_B >/dev/null"
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
    # alternate the order each round: the host's state drifts
    if [ "$ALT" = 1 ]; then
        case $((r % 3)) in
        1) order="avp avp-alt virtio" ;;
        2) order="avp-alt virtio avp" ;;
        0) order="virtio avp avp-alt" ;;
        esac
    elif [ $((r % 2)) = 1 ]; then order="avp virtio"; else order="virtio avp"; fi
    for t in $order; do
        case $t in
        avp) use_ko "$MAIN_KO" || { echo "GSDK: avp_net did not come back"; exit 1; } ;;
        avp-alt) use_ko "$ALT_KO" || { echo "GSDK: the alternative avp_net did not come up"; exit 1; } ;;
        esac
        if [ "$t" = virtio ]; then dst=10.78.0.2; else dst=$ADDR_B; fi
        tcp "$t" "$dst" || { echo "GSDK: the host's cpu step failed"; exit 1; }
        udp "$t" "$dst"
    done
    r=$((r + 1))
done
exit 0
