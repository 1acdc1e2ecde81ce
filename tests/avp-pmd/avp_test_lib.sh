# Shared by the AVP PMD tests: starts an avp-switch for this test only, runs
# DPDK processes against it, and cleans up whatever it started (by pid).
# Expects from ctest: AVP_SWITCH, AVP_PMD (the driver .so), AVP_TRAFFIC, WORK.
set -euo pipefail

: "${AVP_SWITCH:?}" "${AVP_PMD:?}" "${AVP_TRAFFIC:?}" "${WORK:?}"
rm -rf "$WORK"
mkdir -p "$WORK"
TAG="gsdk-avp-$(basename "$WORK")-$$"
SOCK="$WORK/switch.sock"
SWITCH_PID=
PIDS=()
HUGEPAGES_BEFORE=   # set when need_pci_sandbox raised the reservation
PMD_COPY_DIR=

# EAL refuses -d from a path with a world-writable ancestor (tools/dpdk-sandbox.sh).
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/dpdk-sandbox.sh"
PMD_USED=$(private_plugin "$AVP_PMD")
[ "$PMD_USED" != "$AVP_PMD" ] && PMD_COPY_DIR=$(dirname "$PMD_USED")
AVP_PMD=$PMD_USED

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    if [ -n "$SWITCH_PID" ]; then
        kill "$SWITCH_PID" 2>/dev/null || true
        wait "$SWITCH_PID" 2>/dev/null || true
    fi
    rm -f /dev/shm/"$TAG"-*
    [ -n "$PMD_COPY_DIR" ] && rm -rf "$PMD_COPY_DIR"
    if [ -n "$HUGEPAGES_BEFORE" ]; then
        echo "$HUGEPAGES_BEFORE" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null || true
    fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# region NAME -> the file path of a file-profile port
region() {
    echo "/dev/shm/$TAG-$1"
}

# start_switch ARGS... (ports given as --port NAME,profile=file,path=...)
start_switch() {
    timeout -k 5 170 "$AVP_SWITCH" run --socket "$SOCK" "$@" >"$WORK/switch.log" 2>&1 &
    SWITCH_PID=$!
    for _ in $(seq 100); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$SWITCH_PID" 2>/dev/null || { cat "$WORK/switch.log"; fail "switch died"; }
        sleep 0.1
    done
    cat "$WORK/switch.log"
    fail "switch did not come up"
}

ctl() {
    timeout -k 5 30 "$AVP_SWITCH" ctl --socket "$SOCK" "$@"
}

# vdev NAME INDEX -> an EAL --vdev argument for our driver on region NAME
vdev() {
    echo "--vdev=net_gsdk_avp$2,path=$(region "$1"),wait=2000"
}

# EAL arguments every DPDK process of the tests uses.
eal_common() {
    echo "--no-huge -m 256 --no-pci --no-shconf --file-prefix=$TAG-$BASHPID -d $AVP_PMD"
}

# xstat FILE PORT NAME -> value printed by avp_traffic
xstat() {
    sed -n "s/^xstat port=$2 $3=\([0-9]*\)$/\1/p" "$1" | head -n1
}

# result FILE KEY -> value from avp_traffic's result line
result() {
    sed -n "s/^result .*\b$2=\([0-9]*\).*/\1/p" "$1" | head -n1
}

# --- fake PCI devices (legacy and ivshmem profiles) ---------------------------
# DPDK hard-codes /dev/uioN and /sys/class/uio: each DPDK run gets a private
# mount namespace where a tmpfs /dev holds a FIFO as /dev/uioN (epoll-able,
# never readable: no interrupts) and the tree's .class directory covers
# /sys/class. UIO devices force IOVA-as-PA, so these runs use huge pages.

# need_pci_sandbox: skips the test (ctest code 77) when this machine cannot
need_pci_sandbox() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespace)"; exit 77; }
    command -v unshare >/dev/null || { echo "SKIP: no unshare"; exit 77; }
    local hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages free
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    if [ "${free:-0}" -lt 80 ]; then
        # One DPDK process at a time here: 64 pages (-m 128) is enough.
        HUGEPAGES_BEFORE=$(cat "$hp")
        echo $(( $(cat "$hp") + 80 - free )) >"$hp" 2>/dev/null || true
        free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
        [ "${free:-0}" -ge 80 ] || { echo "SKIP: cannot reserve 2 MiB huge pages"; exit 77; }
    fi
}

# pci_sandbox TREE UIO -> path of a script that runs "$@" inside the sandbox
pci_sandbox() {
    local s="$WORK/sandbox-$2.sh"
    write_pci_sandbox "$s" "$WORK" "$1" "$2"
    echo "$s"
}

# wait_guest_up PORT: until the guest driver on PORT told the switch it is up (30 s at most)
wait_guest_up() {
    local _
    for _ in $(seq 150); do
        ctl stats "$1" 2>/dev/null | grep -q '"guest_state": "up"' && return 0
        sleep 0.2
    done
    ctl stats "$1" || true
    fail "guest on port $1 never came up"
}
