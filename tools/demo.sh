#!/usr/bin/env bash
# The demo: the reference host (vmhostd) supervising simulated VMs that run
# guest-heartbeatd and example VNFs, with a scripted, narrated timeline. Its
# centrepiece is the HA pair of examples/ha_pair: two VMs of one server group
# serving a client's 100 requests a second through a vetoed, then accepted,
# live migration of the active and a crash of the active's VM, with the
# client's counters on screen. It ends with the AVP drivers: DPDK's through
# stock testpmd, and the kernel's in a real guest kernel under QEMU.
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
cmake --build build --target guest-heartbeatd server-groupd vmhostd vmhostctl vnf_legacy vnf_modern \
    ha_pair ha_client guest-scaled scale_worker avp-switch rte_net_gsdk_avp avp_traffic -j "$(nproc)" | tail -1
# The kernel driver exists as a target only where the guest kernel's headers are.
kmod_targets=$(cmake --build build --target help | grep -oE '^(avp_net_ko|vm_avp_netcheck):' | tr -d : | tr '\n' ' ')
[ -z "$kmod_targets" ] || cmake --build build --target $kmod_targets -j "$(nproc)" | tail -1

root=$(mktemp -d /tmp/gsdk-demo-XXXXXX)
vmhostd_pid=
client_pid=
cleanup() {
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
    [ -n "$vmhostd_pid" ] && kill "$vmhostd_pid" 2>/dev/null && wait "$vmhostd_pid" 2>/dev/null
    for vm in vm-1 vm-2 vm-3 vm-4 vm-5; do tools/simvm stop "$root" "$vm" 2>/dev/null || true; done
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

# --- The HA pair (examples/ha_pair) -------------------------------------------
ha_log() { echo "$root/$1/app-$2.log"; }  # ha_log VM NODE
client_log=$root/client.log
# The client's latest counters, as it prints them every second.
counters() {
    local line
    line=$(grep -E 'ha_client: sent [0-9]+, answered' "$client_log" | tail -1 | sed 's/^.*ha_client: //')
    note "client: ${line:-(no counters yet)}"
}
# show_lines FILE REGEX: a node's log lines that tell the story, indented.
show_lines() { grep -E -- "$2" "$1" | sed 's/^/     /' || true; }
# watch_counters SECONDS: the client's counters, once a second.
watch_counters() {
    local i
    for ((i = 0; i < $1; i++)); do sleep 1; counters; done
}

# node_restarted_as_standby N: ha-2 started more than N times and stands by.
node_restarted_as_standby() {
    local log
    log=$(ha_log vm-4 ha-2)
    [ "$(grep -c 'priority 100, heartbeat every' "$log")" -gt "$1" ] &&
        tail -n +"$(grep -n 'priority 100, heartbeat every' "$log" | tail -1 | cut -d: -f1)" "$log" | grep -q 'standing by'
}

ha_pair_part() {
    say "2. The HA pair: ha-1 (vm-3) active, ha-2 (vm-4) standing by; a client sends 100 numbered requests a second"
    wait_for 20 grep -q '\[standby\]' "$(ha_log vm-4 ha-2)"
    wait_for 20 grep -q 'standby ready: ha-2' "$(ha_log vm-3 ha-1)"
    "$BUILD/examples/ha_pair/ha_client" --service "$root/service.sock" --rate 100 --resend-ms 100 \
        --report-ms 1000 --drain-ms 20000 --stream demo > "$client_log" 2>&1 &
    client_pid=$!
    wait_for 20 grep -q 'first answer, from ha-1' "$client_log"
    show_lines "$(ha_log vm-3 ha-1)" 'active \(epoch'
    show_lines "$(ha_log vm-4 ha-2)" 'standing by'
    show_lines "$(ha_log vm-3 ha-1)" 'standby ready'
    note "the service is $root/service.sock, a UNIX datagram address that only the active holds"
    watch_counters 2
    breathe

    say "2a. The host wants to live-migrate vm-3, the active's VM: ha-1 vetoes until ha-2 has taken over"
    note "\$ vmhostctl action vm-3 live-migrate"
    ctl action vm-3 live-migrate || note "(exit status $?: vetoed; ha-1 hands its role and its answered requests to ha-2)"
    wait_for 20 grep -q 'handed over to ha-2' "$(ha_log vm-3 ha-1)"
    show_lines "$(ha_log vm-3 ha-1)" 'handing over|handed over'
    show_lines "$(ha_log vm-4 ha-2)" 'handover from'
    counters
    breathe
    note "\$ vmhostctl action vm-3 live-migrate   (asked again: ha-1 is standby now and accepts)"
    ctl action vm-3 live-migrate
    wait_for 20 grep -q 'answers now come from ha-2' "$client_log"
    grep 'answers now come from' "$client_log" | sed 's/^/   /'
    watch_counters 2
    breathe

    say "2b. vm-4, the active's VM, crashes (kill -9 of the whole VM): ha-1 takes over"
    note "\$ simvm stop vm-4   at $(date +%T.%3N)"
    tools/simvm stop "$root" vm-4
    wait_for 20 grep -q 'answers now come from ha-1' "$client_log"
    show_lines "$(ha_log vm-3 ha-1)" 'active \(epoch [2-9]'
    grep 'answers now come from' "$client_log" | tail -1 | sed 's/^/   /'
    watch_counters 2
    note "vm-4 boots again; its node finds ha-1 active and stands by"
    local boots_before
    boots_before=$(grep -c 'priority 100, heartbeat every' "$(ha_log vm-4 ha-2)")
    tools/simvm start "$root" vm-4
    wait_for 30 node_restarted_as_standby "$boots_before"
    tail -n +"$(grep -n 'priority 100, heartbeat every' "$(ha_log vm-4 ha-2)" | tail -1 | cut -d: -f1)" \
        "$(ha_log vm-4 ha-2)" | grep -E 'standing by' | sed 's/^/     /'
    breathe

    say "2c. The client stops, collects every outstanding answer, and counts"
    kill -TERM "$client_pid"
    local status=0
    wait "$client_pid" || status=$?
    client_pid=
    grep -E 'ha_client: sent [0-9]+, answered [0-9]+, lost' "$client_log" | sed 's/^.*ha_client: /   /'
    if [ $status -eq 0 ]; then
        note "every request answered exactly once: none lost, none answered twice"
    else
        note "the client counted lost or duplicated requests (exit status $status); see $client_log"
        return 1
    fi
    breathe
}

# --- vCPU scale-down (guest-scale) -----------------------------------------------
# The host asks vm-5 to give up a vCPU: scale_worker (libguest_scale) chooses
# which, moves its shards off it first, guest-scaled takes it offline; then a
# scale up brings it back. vm-5 shares the server group "workers" with vm-3,
# whose server-groupd is told (scale_down, scale_up).
. tools/demo.d/scale_down.sh
scale_down_part() {
    say "8. vCPU scaling: the host takes a vCPU from vm-5; its worker chooses which and moves its work off first"
    wait_for 20 grep -q 'this worker chooses' "$root/vm-5/app-app.log"
    demo_scale_down "$root" vm-5 ctl 2>&1 | sed 's/^/   /'
    note "vmhostd told the other members of vm-5's server group:"
    grep -E 'vm-5.*scale_(down|up)' "$root/vmhostd.log" | tail -2 | sed 's/^.*vmhostd\[[a-z]*\]: /     /' || true
    ctl list | sed -n '1p;/^vm-5 /p'
    breathe
}

say "Two simulated VMs: a guest-heartbeatd each, and example VNFs"
tools/simvm create "$root" vm-1 --interval 1000 --action reboot \
    --app "$BUILD/examples/vnf_legacy --name vnf-a --interval 1000 --action reboot --vote-secs 2 --state-dir @VM@/state"
tools/simvm create "$root" vm-2 --interval 1000 --action reboot \
    --app "$BUILD/examples/vnf_legacy --name vnf-b --interval 500 --action stop --vote-secs 2 --state-dir @VM@/state" \
    --app "$BUILD/examples/vnf_modern --name vnf-c --count 2 --interval 1000 --action reboot"
# The HA pair: one node in each of vm-3 and vm-4, which also run server-groupd.
ha_node() {  # ha_node NAME PRIORITY
    echo "$BUILD/examples/ha_pair/ha_pair --name $1 --priority $2 --service $root/service.sock --interval-ms 100 --dead-after 10"
}
tools/simvm create "$root" vm-3 --interval 1000 --messaging --app "$(ha_node ha-1 200)"
tools/simvm create "$root" vm-4 --interval 1000 --messaging --app "$(ha_node ha-2 100)"
# vm-5: four vCPUs (a fake sysfs tree) and guest-scaled; scale_worker spreads five shards over them.
tools/simvm create "$root" vm-5 --interval 1000 --vcpus 4 \
    --app "$BUILD/examples/scale_worker --shards 5 --placement @VM@/placement"
for vm in vm-1 vm-2 vm-3 vm-4 vm-5; do tools/simvm start "$root" "$vm"; done
note "vm-1: vnf-a (legacy API, C)        vm-2: vnf-b (legacy API), vnf-c-0000/0001 (modern API, C++)"
note "vm-3: ha_pair node ha-1           vm-4: ha_pair node ha-2 (server group \"ha-pair\": vm-3, vm-4)"
note "vm-5: scale_worker on 4 vCPUs (server group \"workers\": vm-5, vm-3)"

cat > "$root/vmhostd.json" <<JSON
{
  "control_socket": "$root/vmhostd.sock",
  "vms": [
    {"name": "vm-1", "heartbeat": "unix:$root/vm-1/hb.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}},
    {"name": "vm-2", "heartbeat": "unix:$root/vm-2/hb.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}},
    {"name": "vm-3", "heartbeat": "unix:$root/vm-3/hb.sock", "messaging": "unix:$root/vm-3/messaging.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}},
    {"name": "vm-4", "heartbeat": "unix:$root/vm-4/hb.sock", "messaging": "unix:$root/vm-4/messaging.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}},
    {"name": "vm-5", "heartbeat": "unix:$root/vm-5/hb.sock", "messaging": "unix:$root/vm-5/messaging.sock",
     "vcpus": 4, "min_vcpus": 2,
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}}
  ],
  "server_groups": [{"name": "ha-pair", "members": ["vm-3", "vm-4"]},
                    {"name": "workers", "members": ["vm-5", "vm-3"]}]
}
JSON
"$BUILD/host/vmhostd/vmhostd" --config "$root/vmhostd.json" > "$root/vmhostd.log" 2>&1 &
vmhostd_pid=$!

say "1. Registration: vmhostd connects to each VM's cgcs.heartbeat; guests init, applications register"
wait_for 20 vm_shows vm-1 "vnf-a"
wait_for 20 vm_shows vm-2 "vnf-c-0001"
wait_for 20 vm_shows vm-3 "ha-1"
wait_for 20 vm_shows vm-4 "ha-2"
ctl list
breathe

ha_pair_part

say "3. Steady heartbeats (host challenges every second; guests answer with merged health)"
sleep 3
ctl events vm-1 --limit 6
breathe

say "4. The host wants to stop vm-1; vnf-a has active calls and vetoes it"
echo "3 active calls" > "$root/vm-1/state/reject-stop"
note "\$ vmhostctl action vm-1 stop"
ctl action vm-1 stop || note "(exit status $?: the stop was vetoed and did not happen)"
rm -f "$root/vm-1/state/reject-stop"
breathe

say "5. The host reboots vm-2: everyone accepts, is notified, the VM reboots and re-registers"
note "\$ vmhostctl action vm-2 reboot"
ctl action vm-2 reboot
wait_for 30 vm_shows vm-2 "vnf-c-0001:healthy"
note "vm-2 is back (boot #$(cat "$root/vm-2/boots")):"
ctl list | sed -n '1p;/^vm-2 /,$p'
breathe

say "6. vnf-a on vm-1 hangs: the daemon notices within 2 intervals, the host reboots vm-1"
touch "$root/vm-1/state/hang"
note "vnf-a stopped answering at $(date +%T.%3N)"
wait_for 30 grep -q reboot "$root/vm-1/host-actions"
rm -f "$root/vm-1/state/hang"
note "host carried out: $(tail -1 "$root/vm-1/host-actions")"
wait_for 30 vm_shows vm-1 "vnf-a:healthy"
ctl events vm-1 --limit 12
breathe

scale_down_part

say "Final state"
ctl list
breathe

say "7. AVP: the host's AVP switch, and stock dpdk-testpmd loading our driver with -d"
note "avp_traffic:a -> switch -> b:testpmd:c -> switch -> d:avp_traffic, 64/1500/9000-byte frames (9000 = a 5-buffer chain)"
pmd=$(find "$BUILD/avp-pmd" -name 'librte_net_gsdk_avp.so*' -type f | head -1)
AVP_SWITCH=$BUILD/host/avp-switch/avp-switch AVP_PMD=$pmd \
    AVP_TRAFFIC=$(find "$BUILD/tests/avp-pmd" -name avp_traffic -type f | head -1) \
    TESTPMD=$(command -v dpdk-testpmd) WORK=$root/avp \
    bash tests/avp-pmd/test_testpmd.sh | sed 's/^/   /'

say "8. AVP in a real guest kernel: our avp_net.ko under QEMU, through the switch's TAP to this host"
note "one ivshmem-doorbell device served by avp-switch, whose TAP sits in a namespace of this host:"
note "ping both ways, 3 MB each way byte-exact at MTU 1500 and 9000, a live migration mid-transfer,"
note "rmmod/insmod under traffic (the scenario vm.avp-kmod-tap of the test suite; TCG, about 30 s)"
ko=$BUILD/avp-kmod/kbuild/avp-kmod/avp_net.ko
netcheck=$BUILD/tests/vm/vm_avp_netcheck
ethtool=$(command -v ethtool || echo /usr/sbin/ethtool)
if [ ! -f "$ko" ] || [ ! -x "$netcheck" ] || [ ! -x "$ethtool" ] || [ "$(id -u)" != 0 ]; then
    note "(skipped: needs root, ethtool and the guest kernel's headers, as tools/setup.sh installs them)"
else
    mkdir -p "$root/kmod"
    timeout -k 5 120 python3 tests/vm/harness/build_image.py --output "$root/kmod/image.cpio.gz" \
        --bin "$netcheck=avp_netcheck" --bin "$ethtool" --file "$ko=/opt/gsdk/modules/avp_net.ko" >/dev/null
    kmod_rc=0
    timeout -k 10 200 python3 tests/vm/harness/run_scenario.py --image "$root/kmod/image.cpio.gz" \
        --scenario avp-kmod-tap --workdir "$root/kmod/run" --keep \
        --host-arg "avp_switch=$BUILD/host/avp-switch/avp-switch" --host-arg "netcheck=$netcheck" \
        >"$root/kmod/run.log" 2>&1 || kmod_rc=$?
    # the last boot's checks (a boot that stalled under TCG is retried once)
    last=$(ls -d "$root/kmod/run"/attempt* 2>/dev/null | tail -1)
    [ -z "$last" ] || grep -rh "CHECK " "$last" --include='console*' | sed 's/^.*CHECK /   /' || true
    case $kmod_rc in
    0) note "the guest kernel's netdev passed every check" ;;
    77) note "(skipped by the scenario: $(tail -1 "$root/kmod/run.log"))" ;;
    *) note "the scenario failed with status $kmod_rc (log: $root/kmod/run.log)"; exit 1 ;;
    esac
fi
