#!/usr/bin/env bash
# QEMU's own ivshmem-doorbell against the switch's ivshmem server: a paused
# QEMU with no guest connects, takes the region as BAR2 and one eventfd per
# vector, and its going away is noticed. Skipped without qemu-system-x86_64.
#   qemu_doorbell_test.sh AVP_SWITCH WORK_DIR
set -euo pipefail
SWITCH=$1
WORK=$2
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: no qemu-system-x86_64"; exit 77; }
rm -rf "$WORK"
mkdir -p "$WORK"
REGION=/dev/shm/avpsw-qemu-$$
DOORBELL=$WORK/doorbell.sock
CTL=$WORK/ctl.sock
fail() { echo "FAIL: $*" >&2; cat "$WORK/switch.log" "$WORK/qemu.log" >&2 2>/dev/null || true; exit 1; }

"$SWITCH" run --socket "$CTL" --port "v,profile=ivshmem,path=$REGION,doorbell=$DOORBELL,buffers=256" \
    >"$WORK/switch.log" 2>&1 &
SW=$!
trap 'kill $SW 2>/dev/null; wait $SW 2>/dev/null; rm -f "$REGION"' EXIT
for _ in $(seq 100); do
    [ -S "$DOORBELL" ] && [ -S "$CTL" ] && break
    sleep 0.1
done
[ -S "$DOORBELL" ] || fail "no doorbell socket"

# QEMU reads the server's setup messages while creating the device; the
# monitor lists the device, then quits it.
(echo "info pci"; sleep 1; echo "quit") |
    timeout -k 5 30 qemu-system-x86_64 -M q35 -nodefaults -display none -S -monitor stdio \
        -chardev socket,path="$DOORBELL",id=avp0 -device ivshmem-doorbell,chardev=avp0,vectors=9 \
        >"$WORK/qemu.log" 2>&1 || fail "QEMU refused the ivshmem server's messages"
grep -q "PCI device 1af4:1110" "$WORK/qemu.log" || fail "no ivshmem device in QEMU"
grep -q "BAR1: 32 bit memory" "$WORK/qemu.log" || fail "no MSI-X BAR: not a doorbell device"
grep -q "BAR2: 64 bit prefetchable memory" "$WORK/qemu.log" || fail "no shared memory BAR"
grep -q "QEMU pid [0-9]* connected as peer [0-9]*, 5 vectors" "$WORK/switch.log" || fail "switch did not hand out 5 vectors"
for _ in $(seq 100); do
    "$SWITCH" ctl --socket "$CTL" stats v | grep -q '"client_pid": 0' && break
    sleep 0.1
done
"$SWITCH" ctl --socket "$CTL" stats v | grep -q '"client_pid": 0' || fail "QEMU's exit not noticed"
"$SWITCH" ctl --socket "$CTL" stats v | grep -q '"connections": 1' || fail "connection not counted"
grep "doorbell" "$WORK/switch.log"
echo PASS
