#!/usr/bin/env bash
# AVP forwarding benchmark (not a test): stock dpdk-testpmd, io forwarding on
# one core, a net_null source, and the figure printed beside its anchor.
#   bench/avp/run.sh [BUILD_DIR] [--seconds N] [--rounds N]
#                    [--alt-pmd SO] [--alt-switch BIN] [--only-64]
# Scenarios, interleaved round by round so that they share the machine state:
#   gsdk-file-64     our driver, file profile, through avp-switch (port looped back)
#   gsdk-file-64-huge  the same with its mbufs on hugepages, as net_avp's are
#   gsdk-file-64-hregion  mbufs on 4 KiB pages, the switch's region on hugetlbfs
#   gsdk-file-64-hboth    mbufs and region on hugepages
#   (the plain and -huge runs pin the region to ordinary pages: hugepages=off)
#   net_avp-legacy   DPDK's own net_avp, legacy layout in a fake PCI tree, same switch
#   memif-64         memif bidirectional between two testpmd processes
#   vhost-64         virtio-user -> vhost-user between two testpmd processes
#   gsdk-file-512/1518/9000   our driver with bigger frames
# The cross-core latency of the two cores is measured before each round, and
# the switch's CPU use during our runs is reported.
# A/B: --alt-pmd / --alt-switch add a scenario gsdk-file-64-alt (the other
# driver .so and/or switch binary) next to gsdk-file-64 in every round, the
# two in alternating order; --only-64 skips the bigger frames.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
SECONDS_PER_RUN=6
ROUNDS=2
ALT_PMD=""
ALT_SWITCH=""
SIZES="512 1518 9000"
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --alt-pmd) ALT_PMD=$(readlink -f "$2"); shift 2 ;;
    --alt-switch) ALT_SWITCH=$(readlink -f "$2"); shift 2 ;;
    --only-64) SIZES=""; shift ;;
    *) BUILD=$(cd "$1" && pwd); shift ;;
    esac
done
SWITCH=$BUILD/host/avp-switch/avp-switch
PMD=$BUILD/avp-pmd/librte_net_gsdk_avp.so
PINGPONG=$BUILD/bench/avp/avp_core_pingpong
TESTPMD=$(command -v dpdk-testpmd) || { echo "dpdk-testpmd missing: run tools/setup.sh"; exit 1; }
AB=""
[ -n "$ALT_PMD$ALT_SWITCH" ] && AB=1
ALT_PMD=${ALT_PMD:-$PMD}
ALT_SWITCH=${ALT_SWITCH:-$SWITCH}
for f in "$SWITCH" "$PMD" "$PINGPONG" "$ALT_PMD" "$ALT_SWITCH"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "missing $f: build the project first"; exit 1; }
done
# EAL refuses -d from a path with a world-writable ancestor: maybe a private copy.
source "$ROOT/tools/dpdk-sandbox.sh"
COPY_DIRS=()
plugin() {   # VAR PATH: VAR = a loadable path for PATH
    local used; used=$(private_plugin "$2")
    [ "$used" != "$2" ] && COPY_DIRS+=("$(dirname "$used")")
    printf -v "$1" '%s' "$used"
}
plugin PMD "$PMD"
plugin ALT_PMD "$ALT_PMD"
WORK=$BUILD/bench-avp-work
rm -rf "$WORK"; mkdir -p "$WORK"
TAG=gsdk-bench-$$
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -f /dev/shm/"$TAG"-*
    for p in "${COPY_DIRS[@]}"; do rm -rf "$p"; done
    mountpoint -q "$WORK/hugetlbfs" 2>/dev/null && umount "$WORK/hugetlbfs"
    [ -n "${HUGEPAGES_BEFORE:-}" ] && echo "$HUGEPAGES_BEFORE" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
}
trap cleanup EXIT

# rate LOG PORT: mean Rx-pps of PORT over testpmd's samples but the first, in Mpps
rate() {
    awk -v want="$2" '
        /NIC statistics for port/ { port = $(NF-1) + 0 }
        /Rx-pps:/ { if (port == want) v[n++] = $2 }
        END { if (n < 2) { print "n/a"; exit }
              s = 0; k = 0; for (i = 1; i < n; i++) { s += v[i]; k++ }
              printf "%.2f", s / k / 1e6 }' "$1"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

testpmd_bg() {   # LOG ARGS...: a testpmd in the background, stdin closed
    local log=$1; shift
    "${WRAP[@]}" "$TESTPMD" "$@" </dev/null >"$log" 2>&1 &
    PIDS+=($!)
    echo $!
}

stop() { local p; for p in "$@"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }

# wait_stats LOG...: until every testpmd has printed its first statistics (30 s at most)
wait_stats() {
    local i f ok
    for i in $(seq 150); do
        ok=1
        for f in "$@"; do grep -q "Rx-pps" "$f" 2>/dev/null || ok=0; done
        [ $ok = 1 ] && return 0
        sleep 0.2
    done
    return 1
}

EAL="--no-huge -m 1024 --no-pci --no-shconf"
WRAP=()   # what testpmd_bg runs testpmd under
TP_ARGS="--forward-mode=io --auto-start --stats-period 1 --total-num-mbufs=16384"

# ensure_hugepages: 300 free 2 MiB pages at least (the count is restored at exit)
ensure_hugepages() {
    local free; free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    [ "${free:-0}" -ge 300 ] && return
    local hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
    [ -f "$WORK/hugepages-before" ] || cat $hp >"$WORK/hugepages-before"
    echo $(( $(cat $hp) + 300 - free )) >"$hp" 2>/dev/null
}

# huge_region_dir: a hugetlbfs of the bench's own for the switch's regions
huge_region_dir() {
    local d=$WORK/hugetlbfs
    mountpoint -q "$d" || { mkdir -p "$d" && mount -t hugetlbfs -o pagesize=2M nodev "$d"; } || return 1
    echo "$d"
}

# gsdk SIZE [alt|huge|hregion|hboth]: null source -> our port -> switch loopback -> our port -> null
gsdk() {
    local size=$1 tag=$1${2:+-$2} pmd=$PMD switch=$SWITCH sw tp t0 t1 mb="" eal=$EAL
    local log=$WORK/gsdk-$tag.log region=/dev/shm/$TAG-g$tag c0 c1
    local backing=",hugepages=off" hdir
    [ "${2:-}" = alt ] && { pmd=$ALT_PMD; switch=$ALT_SWITCH; backing=""; }
    if [ "${2:-}" = hregion ] || [ "${2:-}" = hboth ]; then
        [ "$(id -u)" = 0 ] || { echo "n/a(root)"; return; }
        ensure_hugepages
        hdir=$(huge_region_dir) || { echo "n/a(hugetlbfs)"; return; }
        backing=",hugepages=on --hugetlbfs $hdir"
    fi
    if [ "${2:-}" = huge ] || [ "${2:-}" = hboth ]; then
        [ "$(id -u)" = 0 ] || { echo "n/a(root)"; return; }
        ensure_hugepages
        eal="-m 512 --no-pci --no-shconf --huge-unlink"
        # hugetlbfs mounted in a mount namespace of its own, as for net_avp
        local -a WRAP=(unshare -m sh -c 'mkdir -p /dev/hugepages &&
            mount -t hugetlbfs nodev /dev/hugepages && exec "$0" "$@"')
    fi
    [ "$size" -gt 2000 ] && mb="--mbuf-size=10240 --max-pkt-len=9100"
    # shellcheck disable=SC2086
    taskset -c 0 "$switch" run --socket "$WORK/sw.sock" --busy-poll \
        --port a,profile=file,path="$region"$backing --loopback a >"$WORK/switch.log" 2>&1 &
    sw=$!; PIDS+=("$sw")
    # shellcheck disable=SC2086
    tp=$(testpmd_bg "$log" $eal --file-prefix=$TAG-g -d "$pmd" --lcores=0@0,1@1 \
        --vdev=net_null0,size="$size" --vdev=net_gsdk_avp0,path="$region",wait=3000 -- $TP_ARGS $mb)
    wait_stats "$log"; t0=$(cpu_ticks "$sw"); c0=$(busy_cycles "$switch")
    sleep "$SECONDS_PER_RUN"; t1=$(cpu_ticks "$sw"); c1=$(busy_cycles "$switch")
    stop "$tp" "$sw"
    echo $(( (t1 - t0) * 100 / $(getconf CLK_TCK) / SECONDS_PER_RUN )) >"$WORK/switch-cpu-$tag"
    # shellcheck disable=SC2086
    set -- $c0 $c1
    if [ $# = 4 ] && [ "$4" -gt "$2" ]; then
        echo $(( ($3 - $1) * 100 / ($4 - $2) )) >"$WORK/switch-busy-$tag"
    else
        echo "n/a" >"$WORK/switch-busy-$tag"
    fi
    rate "$log" 1
}

# busy_cycles SWITCH: "busy total" TSC cycles of the forwarding threads (newer switches only)
busy_cycles() {
    "$1" ctl --socket "$WORK/sw.sock" bench 2>/dev/null | tr -d ' ,' |
        awk -F: '$1 == "\"busy_cycles\"" { b = $2 } $1 == "\"total_cycles\"" { t = $2 }
                 END { if (b != "" && t != "") print b, t }'
}

ours64() {   # [alt|huge|hregion|hboth]: the 64-byte run of our driver and the switch's core use
    local v name=gsdk-file-64${1:+-$1} tag=64${1:+-$1}
    v=$(gsdk 64 "${1:-}"); anchor "$name" "$v" "null->null ~30 Mpps/port; virtio-user->vhost ~24 (same one-copy shape)"
    # Busy-polling, the switch always uses a whole core; the share of its
    # passes that moved frames says how far it is from being the limit.
    echo "                    switch: $(cat "$WORK/switch-cpu-$tag" 2>/dev/null || echo n/a)% of a core, $(cat "$WORK/switch-busy-$tag" 2>/dev/null || echo n/a)% of it in passes that moved frames; cross-core latency after: $("$PINGPONG" 0 1) ns"
}

# pair KIND: two testpmd processes, each null <-> KIND, one forwarding core each
pair() {
    local kind=$1 a b sock=$WORK/$TAG-$1.sock
    local va vb
    if [ "$kind" = memif ]; then
        va="--vdev=net_memif0,role=server,socket=$sock"
        vb="--vdev=net_memif0,role=client,socket=$sock"
    else
        va="--vdev=net_vhost0,iface=$sock,queues=1"
        vb="--vdev=virtio_user0,path=$sock,queues=1"
    fi
    # shellcheck disable=SC2086
    # memif and vhost need EAL's multi-process channel: no --no-shconf here.
    a=$(testpmd_bg "$WORK/$kind-a.log" --no-huge -m 1024 --no-pci --single-file-segments --file-prefix=$TAG-$kind-a \
        --lcores=0@1,1@0 --vdev=net_null0,size=64 "$va" -- $TP_ARGS)
    # The server side (memif server, vhost-user socket) must exist before the client.
    wait_stats "$WORK/$kind-a.log"
    # shellcheck disable=SC2086
    b=$(testpmd_bg "$WORK/$kind-b.log" --no-huge -m 1024 --no-pci --single-file-segments --file-prefix=$TAG-$kind-b \
        --lcores=0@0,1@1 --vdev=net_null0,size=64 "$vb" -- $TP_ARGS)
    wait_stats "$WORK/$kind-a.log" "$WORK/$kind-b.log"
    sleep "$SECONDS_PER_RUN"
    stop "$a" "$b"
    rate "$WORK/$kind-a.log" 1
}

# net_avp through the switch's fake PCI tree (see tests/avp-pmd/test_legacy_pci.sh)
net_avp() {
    local log=$WORK/net_avp.log tp
    [ "$(id -u)" = 0 ] || { echo "n/a(root)"; return; }
    ensure_hugepages
    mkdir -p "$WORK/pci"
    taskset -c 0 "$SWITCH" run --socket "$WORK/sw.sock" --busy-poll \
        --port l,profile=legacy,path="$WORK/pci",slot=18,uio=218 --loopback l >"$WORK/switch.log" 2>&1 &
    local sw=$!; PIDS+=("$sw")
    sleep 1
    write_pci_sandbox "$WORK/ns.sh" "$WORK" "$WORK/pci" 218
    # shellcheck disable=SC2086
    unshare -m bash "$WORK/ns.sh" "$TESTPMD" -m 512 --no-shconf --huge-unlink --file-prefix=$TAG-l \
        --lcores=0@0,1@1 -a 0000:00:12.0 --vdev=net_null0,size=64 -- $TP_ARGS \
        </dev/null >"$log" 2>&1 &
    tp=$!; PIDS+=("$tp")
    wait_stats "$log"
    sleep "$SECONDS_PER_RUN"
    stop "$tp" "$sw"
    rate "$log" 0
}

anchor() { printf "  %-16s %8s Mpps   anchor: %s\n" "$1" "$2" "$3"; }

echo "AVP forwarding benchmark: 1 forwarding core per process, no hugepages (net_avp, *-huge: mbufs on hugepages;"
echo "*-hregion: the switch's region on hugetlbfs; *-hboth: both),"
echo "${SECONDS_PER_RUN}s per run, $ROUNDS interleaved rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
    lat=$("$PINGPONG" 0 1)
    state=fast; [ "$lat" -gt 300 ] && state=slow
    echo "round $r: cross-core latency ${lat} ns (${state} state; the machines flip between ~110 and ~510 ns)"
    if [ -n "$AB" ] && [ $((r % 2)) = 0 ]; then ours64 alt; ours64
    else ours64; [ -n "$AB" ] && ours64 alt
    fi
    # The two backings of the switch's region, interleaved in every round.
    if [ $((r % 2)) = 0 ]; then ours64 hregion; ours64 huge; ours64 hboth
    else ours64 huge; ours64 hboth; ours64 hregion
    fi
    v=$(net_avp);   anchor net_avp-legacy "$v" "DPDK's own AVP driver through the same switch"
    v=$(pair memif); anchor memif-64 "$v" "13.5-16.8 Mpps per direction"
    v=$(pair vhost); anchor vhost-64 "$v" "~24 Mpps"
    for s in $SIZES; do
        v=$(gsdk "$s"); anchor "gsdk-file-$s" "$v" "line of the 64-byte run; copy-bound"
    done
done
[ -f "$WORK/hugepages-before" ] && HUGEPAGES_BEFORE=$(cat "$WORK/hugepages-before")
echo "logs: $WORK"
