#!/usr/bin/env bash
# The demo: the reference host (vmhostd) supervising simulated VMs that run
# guest-heartbeatd and example VNFs, with a scripted, narrated timeline.
# Usage: tools/demo.sh [--fast]   (after tools/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
export BUILD=$top/build
PAUSE=${DEMO_PAUSE:-1}
[ "${1:-}" = "--fast" ] && PAUSE=0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
breathe() { sleep "$PAUSE"; }

say "Building"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target guest-heartbeatd vmhostd vmhostctl vnf_legacy vnf_modern \
    avp-switch rte_net_gsdk_avp avp_traffic -j "$(nproc)" | tail -1

root=$(mktemp -d /tmp/gsdk-demo-XXXXXX)
vmhostd_pid=
cleanup() {
    [ -n "$vmhostd_pid" ] && kill "$vmhostd_pid" 2>/dev/null && wait "$vmhostd_pid" 2>/dev/null
    for vm in vm-1 vm-2; do tools/simvm stop "$root" "$vm" 2>/dev/null || true; done
    echo; echo "(logs kept in $root)"
}
trap cleanup EXIT

ctl() { "$BUILD/host/vmhostctl/vmhostctl" --socket "$root/vmhostd.sock" "$@"; }
wait_for() {  # wait_for SECONDS COMMAND...: until the command succeeds
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || { echo "demo: timed out waiting for: $*" >&2; return 1; }
        sleep 0.2
    done
}
# vm_shows VM TEXT: the VM's heartbeat is active and its row shows TEXT.
vm_shows() { ctl list | grep -E "^$1 +active " | grep -q -- "$2"; }

say "Two simulated VMs: a guest-heartbeatd each, and example VNFs"
tools/simvm create "$root" vm-1 --interval 1000 --action reboot \
    --app "$BUILD/examples/vnf_legacy --name vnf-a --interval 1000 --action reboot --vote-secs 2 --state-dir @VM@/state"
tools/simvm create "$root" vm-2 --interval 1000 --action reboot \
    --app "$BUILD/examples/vnf_legacy --name vnf-b --interval 500 --action stop --vote-secs 2 --state-dir @VM@/state" \
    --app "$BUILD/examples/vnf_modern --name vnf-c --count 2 --interval 1000 --action reboot"
tools/simvm start "$root" vm-1
tools/simvm start "$root" vm-2
note "vm-1: vnf-a (legacy API, C)        vm-2: vnf-b (legacy API), vnf-c-0000/0001 (modern API, C++)"

cat > "$root/vmhostd.json" <<JSON
{
  "control_socket": "$root/vmhostd.sock",
  "vms": [
    {"name": "vm-1", "heartbeat": "unix:$root/vm-1/hb.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}},
    {"name": "vm-2", "heartbeat": "unix:$root/vm-2/hb.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}}
  ]
}
JSON
"$BUILD/host/vmhostd/vmhostd" --config "$root/vmhostd.json" > "$root/vmhostd.log" 2>&1 &
vmhostd_pid=$!

say "1. Registration: vmhostd connects to each VM's cgcs.heartbeat; guests init, applications register"
wait_for 20 vm_shows vm-1 "vnf-a"
wait_for 20 vm_shows vm-2 "vnf-c-0001"
ctl list
breathe

say "2. Steady heartbeats (host challenges every second; guests answer with merged health)"
sleep 3
ctl events vm-1 --limit 6
breathe

say "3. The host wants to stop vm-1; vnf-a has active calls and vetoes it"
echo "3 active calls" > "$root/vm-1/state/reject-stop"
note "\$ vmhostctl action vm-1 stop"
ctl action vm-1 stop || note "(exit status $?: the stop was vetoed and did not happen)"
rm -f "$root/vm-1/state/reject-stop"
breathe

say "4. The host reboots vm-2: everyone accepts, is notified, the VM reboots and re-registers"
note "\$ vmhostctl action vm-2 reboot"
ctl action vm-2 reboot
wait_for 30 vm_shows vm-2 "vnf-c-0001:healthy"
note "vm-2 is back (boot #$(cat "$root/vm-2/boots")):"
ctl list | sed -n '1p;/^vm-2 /,$p'
breathe

say "5. vnf-a on vm-1 hangs: the daemon notices within 2 intervals, the host reboots vm-1"
touch "$root/vm-1/state/hang"
note "vnf-a stopped answering at $(date +%T.%3N)"
wait_for 30 grep -q reboot "$root/vm-1/host-actions"
rm -f "$root/vm-1/state/hang"
note "host carried out: $(tail -1 "$root/vm-1/host-actions")"
wait_for 30 vm_shows vm-1 "vnf-a:healthy"
ctl events vm-1 --limit 12
breathe

say "Final state"
ctl list
breathe

say "6. AVP: the host's AVP switch, and stock dpdk-testpmd loading our driver with -d"
note "avp_traffic:a -> switch -> b:testpmd:c -> switch -> d:avp_traffic, 64/1500/9000-byte frames (9000 = a 5-buffer chain)"
pmd=$(find "$BUILD/avp-pmd" -name 'librte_net_gsdk_avp.so*' -type f | head -1)
AVP_SWITCH=$BUILD/host/avp-switch/avp-switch AVP_PMD=$pmd \
    AVP_TRAFFIC=$(find "$BUILD/tests/avp-pmd" -name avp_traffic -type f | head -1) \
    TESTPMD=$(command -v dpdk-testpmd) WORK=$root/avp \
    bash tests/avp-pmd/test_testpmd.sh | sed 's/^/   /'
