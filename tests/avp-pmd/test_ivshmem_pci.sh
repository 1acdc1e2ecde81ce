#!/usr/bin/env bash
# ivshmem PCI profile: the switch's ivshmem region presented as QEMU's
# ivshmem-plain device (1af4:1110, subsystem 1af4:1100, the region as BAR2)
# in a fake PCI sysfs tree. Our PCI driver must recognise our region magic in
# BAR2 and pass traffic; a plain ivshmem device without the magic must be left
# alone (no port, no error).
source "$(dirname "$0")/avp_test_lib.sh"
need_pci_sandbox

UIO=219
TREE=$WORK/pci
start_switch --port a,profile=file,path="$(region a)" \
             --port v,profile=ivshmem,path="$(region v)" --pair a,v

# fake_ivshmem BDF UIO BAR2-FILE: a device directory as the kernel shows one
fake_ivshmem() {
    local dev=$TREE/$1 size
    size=$(stat -c %s "$3")
    mkdir -p "$dev/uio/uio$2" "$TREE/.drivers/uio_pci_generic" "$TREE/.class/uio/uio$2"
    echo 0x1af4 >"$dev/vendor"; echo 0x1110 >"$dev/device"
    echo 0x1af4 >"$dev/subsystem_vendor"; echo 0x1100 >"$dev/subsystem_device"
    echo 0x050000 >"$dev/class"; echo 0 >"$dev/numa_node"; echo 0 >"$dev/irq"
    {
        printf '0x%016x 0x%016x 0x%016x\n' 0xfe000000 0xfe0000ff 0x40200   # BAR0: ivshmem registers
        printf '0x%016x 0x%016x 0x%016x\n' 0 0 0
        printf '0x%016x 0x%016x 0x%016x\n' 0x800000000 $((0x800000000 + size - 1)) 0x14220c
        for _ in $(seq 10); do printf '0x%016x 0x%016x 0x%016x\n' 0 0 0; done
    } >"$dev/resource"
    truncate -s 256 "$dev/resource0"
    ln -sf "$3" "$dev/resource2"
    # config space: ids at 0, 2, 0x2c, 0x2e; memory space enabled
    printf '\xf4\x1a\x10\x11\x02\x00' >"$dev/config"
    truncate -s 256 "$dev/config"
    printf '\xf4\x1a\x00\x11' | dd of="$dev/config" bs=1 seek=44 conv=notrunc status=none
    ln -sfn ../.drivers/uio_pci_generic "$dev/driver"
    echo "243:$2" >"$dev/uio/uio$2/dev"; echo uio_pci_generic >"$dev/uio/uio$2/name"
    ln -sfn ../.. "$dev/uio/uio$2/device"
    ln -sfn "$dev" "$TREE/.class/uio/uio$2/device"
}
fake_ivshmem 0000:00:13.0 $UIO "$(region v)"
SANDBOX=$(pci_sandbox "$TREE" $UIO)

run() {   # NAME BDF TX RX: the PCI device is port 0 when taken, the file port after it
    timeout -k 5 120 unshare -m bash "$SANDBOX" "$AVP_TRAFFIC" -m 128 --no-shconf --file-prefix="$TAG-$1" \
        --huge-unlink -l 0 -a "$2" -d "$AVP_PMD" --log-level="pmd.net.gsdk_avp.*:info" \
        --vdev=net_gsdk_avp0,path="$(region a)",wait=2000 -- "${@:3}" >"$WORK/out-$1" 2>&1
}
run rx 0000:00:13.0 --tx 1 --rx 0 --sizes 64,1500,9000 --count 600 ||
    { cat "$WORK/out-rx"; fail "ivshmem receive failed"; }
grep -q "ivshmem PCI profile" "$WORK/out-rx" || { cat "$WORK/out-rx"; fail "not driven as ivshmem"; }
run tx 0000:00:13.0 --tx 0 --rx 1 --sizes 64,1500,9000 --count 600 ||
    { cat "$WORK/out-tx"; fail "ivshmem transmit failed"; }
grep -E "^result" "$WORK/out-rx" "$WORK/out-tx"

# A plain ivshmem device (no AVP region in BAR2) is not ours: one port only.
truncate -s 1M "$WORK/plain-bar2"
fake_ivshmem 0000:00:14.0 $((UIO + 1)) "$WORK/plain-bar2"
SANDBOX=$(pci_sandbox "$TREE" $((UIO + 1)))
run plain 0000:00:14.0 --tx 0 --rx 0 --count 10 --no-check || true
grep -q "ivshmem without an AVP region: not ours" "$WORK/out-plain" ||
    { cat "$WORK/out-plain"; fail "plain ivshmem device not declined"; }
grep -q "Requested device 0000:00:14.0 cannot be used\|net_gsdk_avp_pci.*error" "$WORK/out-plain" &&
    fail "declining produced an error"
echo PASS
