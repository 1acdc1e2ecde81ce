#!/usr/bin/env bash
# The HA pair's service gap (examples/ha_pair): how long a client sending 100
# requests a second waits for answers while the role moves from one VM to the
# other, over several rounds of
#   - handover: the host asks to live-migrate the active's VM, the active
#     vetoes, hands over, and the host's second ask is accepted;
#   - crash: the active's VM is killed (kill -9 of the simulated VM) and the
#     standby takes over on missing heartbeats; the VM then boots again.
# The gap is the client's time between the last answer from the old active
# and the first from the new one. Every run also checks that no request was
# lost or answered twice. Anchors: keepalived's VRRP takeover at its defaults
# (advert_int 1 s: 3 adverts + skew, about 3.5 s) and a controller pair's
# 2-5 minutes.
#
#   bench/server_group/ha_pair.sh [--rounds N] [--interval-ms MS] [--dead-after N]
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
rounds=5 interval=100 dead_after=3
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --interval-ms) interval=$2; shift 2 ;;
        --dead-after) dead_after=$2; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--interval-ms MS] [--dead-after N]" >&2; exit 2 ;;
    esac
done
export BUILD=${BUILD:-$top/build}
if [ "$BUILD" = "$top/build" ]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build --target guest-heartbeatd server-groupd vmhostd vmhostctl ha_pair ha_client \
        -j "$(nproc)" | tail -1
fi

root=$(mktemp -d /tmp/gsdk-ha-bench-XXXXXX)
vmhostd_pid= client_pid=
cleanup() {
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
    [ -n "$vmhostd_pid" ] && kill "$vmhostd_pid" 2>/dev/null && wait "$vmhostd_pid" 2>/dev/null
    for vm in vm-1 vm-2; do tools/simvm stop "$root" "$vm" 2>/dev/null || true; done
    rm -rf "$root"
}
trap cleanup EXIT

ctl() { timeout -k 5 30 "$BUILD/host/vmhostctl/vmhostctl" --socket "$root/ctl.sock" "$@"; }
wait_for() {  # wait_for SECONDS COMMAND...
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || { echo "ha_pair bench: timed out waiting for: $*" >&2; exit 1; }
        sleep 0.05
    done
}
node() { [ "$1" = vm-1 ] && echo ha-1 || echo ha-2; }
other() { [ "$1" = vm-1 ] && echo vm-2 || echo vm-1; }
node_log() { echo "$root/$1/app-$(node "$1").log"; }
client_log=$root/client.log
switches() { grep -c 'answers now come from' "$client_log" || true; }
more_switches_than() { [ "$(switches)" -gt "$1" ]; }
last_gap() { grep 'answers now come from' "$client_log" | tail -1 | sed -n 's/.*after a gap of \([0-9]*\) ms/\1/p'; }
count() { grep -c -- "$2" "$1" || true; }
more_than() { [ "$(count "$1" "$2")" -gt "$3" ]; }
# standing_by_since_start LOG: the node's latest start is followed by "standing by".
standing_by_since_start() {
    tail -n +"$(grep -n 'heartbeat every' "$1" | tail -1 | cut -d: -f1)" "$1" | grep -q 'standing by'
}

for vm in vm-1 vm-2; do
    priority=$([ $vm = vm-1 ] && echo 200 || echo 100)
    tools/simvm create "$root" $vm --interval 1000 --messaging --app \
        "$BUILD/examples/ha_pair/ha_pair --name $(node $vm) --priority $priority --service $root/service.sock --interval-ms $interval --dead-after $dead_after"
    tools/simvm start "$root" $vm
done
cat > "$root/vmhostd.json" <<JSON
{
  "control_socket": "$root/ctl.sock",
  "vms": [
    {"name": "vm-1", "heartbeat": "unix:$root/vm-1/hb.sock", "messaging": "unix:$root/vm-1/messaging.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}},
    {"name": "vm-2", "heartbeat": "unix:$root/vm-2/hb.sock", "messaging": "unix:$root/vm-2/messaging.sock",
     "executor": {"type": "command", "argv": ["$top/tools/simvm", "exec", "$root"]}}
  ],
  "server_groups": [{"name": "ha-pair", "members": ["vm-1", "vm-2"]}]
}
JSON
"$BUILD/host/vmhostd/vmhostd" --config "$root/vmhostd.json" > "$root/vmhostd.log" 2>&1 &
vmhostd_pid=$!
wait_for 30 grep -q 'active (epoch 1)' "$(node_log vm-1)"
wait_for 30 grep -q '\[standby\]' "$(node_log vm-2)"
wait_for 30 grep -q 'standby ready' "$(node_log vm-1)"
"$BUILD/examples/ha_pair/ha_client" --service "$root/service.sock" --rate 100 --resend-ms 100 \
    --report-ms 0 --drain-ms 20000 --json > "$client_log" 2>&1 &
client_pid=$!
wait_for 30 grep -q 'first answer' "$client_log"
sleep 1

active=vm-1
handover_gaps=() crash_gaps=()
for ((i = 1; i <= rounds; i++)); do
    # Handover: vetoed, handed over, asked again and accepted.
    before=$(switches) handed=$(count "$(node_log $active)" 'handed over to')
    ctl action $active live-migrate >/dev/null && { echo "round $i: the first ask was not vetoed" >&2; exit 1; }
    wait_for 30 more_than "$(node_log $active)" 'handed over to' "$handed"
    ctl action $active live-migrate >/dev/null
    wait_for 30 more_switches_than "$before"
    handover_gaps+=("$(last_gap)")
    active=$(other $active)
    sleep 1
    # Crash of the active's VM, then it boots again and stands by.
    before=$(switches)
    crashed=$active starts=$(count "$(node_log $crashed)" 'heartbeat every')
    tools/simvm stop "$root" $crashed
    wait_for 30 more_switches_than "$before"
    crash_gaps+=("$(last_gap)")
    active=$(other $crashed)
    tools/simvm start "$root" $crashed
    wait_for 30 more_than "$(node_log $crashed)" 'heartbeat every' "$starts"
    wait_for 30 standing_by_since_start "$(node_log $crashed)"
    sleep 1
    echo "round $i: handover gap ${handover_gaps[-1]} ms, crash gap ${crash_gaps[-1]} ms"
done

kill -TERM "$client_pid"
status=0
wait "$client_pid" || status=$?
client_pid=
summary=$(grep '^{' "$client_log" | tail -1)

stats() {  # stats N...: min / median / max
    printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {printf "min %d  median %d  max %d ms", v[1], v[int((NR+1)/2)], v[NR]}'
}
echo
echo "HA pair, $rounds rounds, pair heartbeat every $interval ms, dead after $dead_after missed, client 100 requests/s:"
echo "  handover (vetoed live migration, then accepted): gap $(stats "${handover_gaps[@]}")"
echo "  crash (kill -9 of the active's VM):              gap $(stats "${crash_gaps[@]}")"
echo "  client: $(echo "$summary" | python3 -c 'import json, sys
s = json.load(sys.stdin)
print("sent %d, answered %d, lost %d, duplicated %d, longest gap %.0f ms" %
      (s["sent"], s["answered"], s["lost"], s["duplicated"], s["longest_gap_ms"]))')"
echo "  anchors: keepalived VRRP takeover at its defaults about 3500 ms; a controller pair 2-5 minutes"
exit $status
