#!/usr/bin/env bash
# Compatibility of the legacy profile with an unmodified guest driver: DPDK's
# own net_avp (Debian's librte-net-avp) probes the switch's fake PCI device
# through SYSFS_PCI_DEVICES and loops frames through it (loopback port, so the
# switch's zero-copy path is used). Skips (77) where the sandbox cannot be
# built: no root/unshare, no testpmd, no 2 MiB huge pages.
# Usage: stock_net_avp_test.sh AVP_SWITCH WORKDIR
set -euo pipefail
SWITCH=$1
WORK=$2
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/dpdk-sandbox.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: no unshare"; exit 77; }
TESTPMD=$(command -v dpdk-testpmd) || { echo "SKIP: no dpdk-testpmd"; exit 77; }
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "${free:-0}" -lt 70 ] && [ -w "$hp" ]; then
    # other DPDK tests may hold some right now: grow the pool by what is missing
    echo $(( $(cat "$hp") + 70 - ${free:-0} )) >"$hp" 2>/dev/null || true
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
fi
[ "${free:-0}" -ge 70 ] || { echo "SKIP: fewer than 70 free 2 MiB huge pages"; exit 77; }

rm -rf "$WORK"
mkdir -p "$WORK"
SOCK=$WORK/switch.sock
UIO=230
SWITCH_PID=
cleanup() {
    if [ -n "$SWITCH_PID" ]; then
        kill "$SWITCH_PID" 2>/dev/null || true
        wait "$SWITCH_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

timeout -k 5 170 "$SWITCH" run --socket "$SOCK" --port "l,profile=legacy,path=$WORK/pci,slot=30,uio=$UIO" \
    --loopback l >"$WORK/switch.log" 2>&1 &
SWITCH_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || { cat "$WORK/switch.log"; fail "switch did not start"; }

# DPDK opens /dev/uioN and /sys/class/uio by absolute path: a private /dev
# and the tree's .class, in a mount namespace of its own.
write_pci_sandbox "$WORK/sandbox.sh" "$WORK" "$WORK/pci" "$UIO"
looped() { sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$WORK/testpmd.log" | tail -n1; }
# testpmd prints its counters every second: it runs until they show the
# frames looped (however long a loaded machine takes to start it), 40 s at
# most, and is then stopped as a user would (SIGINT, final counters printed).
timeout -k 5 -s INT 40 unshare -m bash "$WORK/sandbox.sh" "$TESTPMD" -m 128 --no-shconf \
    --file-prefix="avpsw-stock-$$" --huge-unlink -l 0,1 -a 0000:00:1e.0 -- \
    --total-num-mbufs=4096 --forward-mode=io --tx-first --auto-start --stats-period 1 </dev/null >"$WORK/testpmd.log" 2>&1 &
TESTPMD_PID=$!
while kill -0 "$TESTPMD_PID" 2>/dev/null; do
    n=$(looped)
    [ "${n:-0}" -gt 1000 ] && break
    sleep 0.2
done
kill -INT "$TESTPMD_PID" 2>/dev/null || true
wait "$TESTPMD_PID" || true

grep -q "Probe PCI driver: net_avp (1af4:1110) device: 0000:00:1e.0" "$WORK/testpmd.log" ||
    { cat "$WORK/testpmd.log"; fail "net_avp did not probe the fake device"; }
grep -q "Config request failed" "$WORK/testpmd.log" &&
    { cat "$WORK/testpmd.log"; fail "the switch refused net_avp's configure request"; }
rx=$(looped)
[ "${rx:-0}" -gt 1000 ] || { cat "$WORK/testpmd.log"; fail "net_avp received ${rx:-0} frames"; }
stats=$(timeout -k 5 30 "$SWITCH" ctl --socket "$SOCK" stats l)
echo "$stats" | grep -q '"driver_type": 1' || fail "no configure request recorded: $stats"
echo "$stats" | grep -q '"rx_errors": 0' || fail "switch saw bad descriptors: $stats"
echo "$stats" | grep -q '"free_errors": 0' || fail "switch saw bad returns: $stats"
echo "net_avp looped $rx frames through the legacy profile"
echo PASS
