#!/usr/bin/env bash
# Compatibility proof for the legacy layout (subsystem 1af4:1104, BARs 0/2/4/5)
# presented by the switch as a fake PCI sysfs tree (SYSFS_PCI_DEVICES):
#  1. DPDK's own unmodified net_avp (from Debian) passes traffic both ways;
#  2. our driver, asked with the devargs claim=1, does the same through the
#     same tree, and without claim=1 leaves the device to net_avp.
# (The sandbox for DPDK's hard-coded paths is described in avp_test_lib.sh.)
source "$(dirname "$0")/avp_test_lib.sh"
need_pci_sandbox

SLOT=17
UIO=217
BDF=0000:00:11.0
mkdir -p "$WORK/pci"
start_switch --port a,profile=file,path="$(region a)" \
             --port l,profile=legacy,path="$WORK/pci",slot=$SLOT,uio=$UIO --pair a,l

SANDBOX=$(pci_sandbox "$WORK/pci" $UIO)

# run NAME DEVARGS TX RX: one avp_traffic run; the legacy device is port 0, the file port 1
run() {
    timeout -k 5 120 unshare -m bash "$SANDBOX" "$AVP_TRAFFIC" -m 128 --no-shconf --file-prefix="$TAG-$1" \
        --huge-unlink -l 0 -a "$BDF$2" -d "$AVP_PMD" --log-level="pmd.net.gsdk_avp.*:info" \
        --vdev=net_gsdk_avp0,path="$(region a)",wait=2000 -- \
        --tx "$3" --rx "$4" --sizes 64,1500,9000 --count 600 >"$WORK/out-$1" 2>&1 ||
        { cat "$WORK/out-$1"; fail "$1: traffic failed"; }
    grep -E "^result" "$WORK/out-$1" | sed "s/^/$1: /"
    [ "$(result "$WORK/out-$1" received)" = 600 ] || fail "$1: expected 600 frames"
}

run net_avp_rx "" 1 0
grep -q "Probe PCI driver: net_avp " "$WORK/out-net_avp_rx" || fail "net_avp did not take the device"
run net_avp_tx "" 0 1
run gsdk_rx ",claim=1" 1 0
grep -q "Probe PCI driver: net_gsdk_avp_pci" "$WORK/out-gsdk_rx" || fail "claim=1 ignored"
grep -q "Probe PCI driver: net_avp " "$WORK/out-gsdk_rx" && fail "both drivers probed the device"
grep -q "legacy PCI profile" "$WORK/out-gsdk_rx" || fail "our driver did not run the legacy profile"
run gsdk_tx ",claim=1" 0 1
echo PASS
