# Our AVP DPDK driver on real PCI devices in a real guest kernel: QEMU
# ivshmem-plain devices backed by avp-switch regions (hosts/avp_in_guest.py),
# in PCI order: v (looped back by the switch), a and b (paired). Bound to
# uio_pci_generic and driven by avp_traffic with huge pages.
. /scenarios/lib.sh

COUNT=300   # frames per run; TCG is slow; 64/1500/9000 bytes get 100 each
BYTES=$((COUNT / 3 * (64 + 1500 + 9000)))

devs=
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
        devs="$devs ${d##*/}"
    fi
done
set -- $devs
[ $# = 3 ] || { echo "GSDK: expected three 1af4:1110 (ivshmem) devices, found: $devs"; exit 1; }
dev_v=$1 dev_a=$2 dev_b=$3
echo "GSDK: ivshmem devices v=$dev_v a=$dev_a b=$dev_b"

# new_id makes uio_pci_generic take every unbound device with these ids.
echo "1af4 1110" > /sys/bus/pci/drivers/uio_pci_generic/new_id
for dev in $devs; do
    check "uio_pci_generic took $dev" wait_until 10 test -d "/sys/bus/pci/devices/$dev/uio"
    check "$dev has its /dev/uioN" test -c "/dev/$(ls "/sys/bus/pci/devices/$dev/uio" 2>/dev/null)"
done

mkdir -p /var/run   # EAL's runtime directory lives under it
# UIO devices force IOVA-as-PA in DPDK: huge pages are required.
echo 96 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
mkdir -p /dev/hugepages
mount -t hugetlbfs nodev /dev/hugepages
check "96 huge pages reserved" test "$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)" -ge 96

# traffic LOG TX RX DEVICES...: avp_traffic on the allow-listed devices. The
# Debian PMD directory is not in the image: the mempool ring driver is named
# with -d like ours, and nothing else is auto-loaded.
traffic() {
    log=$1 tx=$2 rx=$3
    shift 3
    allow=
    for dev in "$@"; do allow="$allow -a $dev"; done
    avp_traffic -l 0 -m 128 --no-shconf --huge-unlink $allow \
        -d /opt/gsdk/lib/librte_mempool_ring.so -d /opt/gsdk/lib/librte_net_gsdk_avp.so \
        --log-level='pmd.net.gsdk_avp.*:info' -- \
        --tx "$tx" --rx "$rx" --sizes 64,1500,9000 --count "$COUNT" > "$log" 2>&1 3>&-
    status=$?
    sed "s#^#${log##*/}| #" "$log"
    return $status
}
# xstat LOG PORT NAME: a counter avp_traffic printed
xstat() { sed -n "s/^xstat port=$2 $3=\([0-9]*\)$/\1/p" "$1" | head -n1; }
# switch_agrees LOG PORT DEVICE SWITCH-PORT: the switch counted what the
# driver did, and the device id the driver read from DEVICE is that port's
switch_agrees() {
    id=$(sed -n "s/.*$3: ivshmem PCI profile, .* device id \(0x[0-9a-f]*\),.*/\1/p" "$1" | head -n1)
    host_step check-stats "$4" "${id:-none}" "$(xstat "$1" "$2" tx_good_packets)" \
        "$(xstat "$1" "$2" tx_good_bytes)" "$(xstat "$1" "$2" rx_good_packets)" "$(xstat "$1" "$2" rx_good_bytes)"
}
delivered() {   # LOG: every frame back byte-exact and in order, all bytes counted
    grep -q "^result sent=$COUNT received=$COUNT lost=0 corrupt=0 reordered=0 " "$1"
}

# 1. One port looped back by the switch (descriptors re-queued, no copy).
check "loopback: avp_traffic exits 0" traffic /tmp/loop.log 0 0 "$dev_v"
check "loopback: driven as the ivshmem PCI profile" grep -q "$dev_v: ivshmem PCI profile" /tmp/loop.log
check "loopback: no frame lost, corrupt or reordered" delivered /tmp/loop.log
check "loopback: $BYTES bytes out and back" \
    test "$(xstat /tmp/loop.log 0 tx_good_bytes)/$(xstat /tmp/loop.log 0 rx_good_bytes)" = "$BYTES/$BYTES"
check "loopback: the switch's counters agree" switch_agrees /tmp/loop.log 0 "$dev_v" v

# 2. Two PCI devices paired by the switch (one copy between their pools);
#    DPDK numbers the ports in PCI order: a is port 0, b port 1.
check "pair: avp_traffic exits 0" traffic /tmp/pair.log 0 1 "$dev_a" "$dev_b"
check "pair: both devices driven" test "$(grep -c ": ivshmem PCI profile" /tmp/pair.log)" = 2
check "pair: no frame lost, corrupt or reordered" delivered /tmp/pair.log
check "pair: $BYTES bytes out of a, into b" \
    test "$(xstat /tmp/pair.log 0 tx_good_bytes)/$(xstat /tmp/pair.log 1 rx_good_bytes)" = "$BYTES/$BYTES"
check "pair: the switch's counters of a agree" switch_agrees /tmp/pair.log 0 "$dev_a" a
check "pair: the switch's counters of b agree" switch_agrees /tmp/pair.log 1 "$dev_b" b
exit "$failures"
