#!/usr/bin/env bash
# A legacy VNF's build, exactly as its makefile does it: our legacy-API example
# compiled against our headers and linked with
#   -lguest_common_api -lguest_heartbeat_api
# then run against the real guest-heartbeatd. Also checks that the drop-in
# libraries carry the originals' SONAMEs and exported symbols, so a binary
# built against the originals loads ours.
#   legacy_makefile_test.sh SRC_DIR LIB_DIR DAEMON WORK
set -euo pipefail
src=$1 libdir=$2 daemon=$3 work=$4
rm -rf "$work"
mkdir -p "$work/run"
fail() { echo "FAIL: $*" >&2; [ -f "$work/daemon.log" ] && sed 's/^/daemon: /' "$work/daemon.log" >&2; exit 1; }
t() { timeout -k 5 "$@"; }

# 1. The originals' SONAMEs and exports (docs/protocols/legacy-binary.md, "Libraries").
soname() { t 10 readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
exports() { t 10 nm -D --defined-only "$1" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort; }
[ "$(soname "$libdir/libguest_common_api.so")" = libguest_common_api.so.3 ] || fail "common SONAME"
[ "$(soname "$libdir/libguest_heartbeat_api.so")" = libguest_heartbeat_api.so.3 ] || fail "heartbeat SONAME"
for f in guest_api_error_str guest_api_debug_initialize guest_api_debug_finalize guest_api_debug_set_log_level \
         guest_api_debug_want_log guest_api_debug_log guest_api_debug_log_level_str; do
    exports "$libdir/libguest_common_api.so" | grep -qx "$f" || fail "libguest_common_api does not export $f"
done
for f in initialize finalize register deregister send_action_response dispatch get_selobj action_str event_str \
         notify_str vote_result_str; do
    exports "$libdir/libguest_heartbeat_api.so" | grep -qx "guest_heartbeat_api_$f" ||
        fail "libguest_heartbeat_api does not export guest_heartbeat_api_$f"
done
if exports "$libdir/libguest_heartbeat_api.so" | grep -v '^guest_heartbeat_api_' | grep -q .; then
    fail "libguest_heartbeat_api exports more than the legacy names: $(exports "$libdir/libguest_heartbeat_api.so" | grep -v '^guest_heartbeat_api_' | head -3)"
fi

# 2. The makefile's compile and link lines (C, -Werror as strict VNF builds use).
t 120 cc -std=gnu99 -Wall -Werror -I"$src/heartbeat/include" -o "$work/vnf" "$src/examples/vnf_legacy.c" \
    -L"$libdir" -lguest_common_api -lguest_heartbeat_api || fail "the legacy link line does not build"
needed=$(t 10 readelf -d "$work/vnf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case " $needed " in *" libguest_common_api.so.3 "*) ;; *) fail "binary does not need libguest_common_api.so.3: $needed" ;; esac
case " $needed " in *" libguest_heartbeat_api.so.3 "*) ;; *) fail "binary does not need libguest_heartbeat_api.so.3: $needed" ;; esac

# 3. It runs against the daemon: registers, and its death is a failure the daemon sees.
cat >"$work/hb.conf" <<CONF
HB_INTERVAL=1000
CONF
timeout -k 5 60 "$daemon" --listen "unix:$work/run/host.sock" --socket-dir "$work/run" --legacy-socket "$work/run/legacy.sock" --config "$work/hb.conf" \
    --name make-test --log-level debug >"$work/daemon.log" 2>&1 &
daemon_pid=$!
cleanup() { kill "$daemon_pid" "${vnf_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$work/run/heartbeat.sock" ] && break; sleep 0.1; done
[ -S "$work/run/heartbeat.sock" ] || fail "daemon socket never appeared"

LD_LIBRARY_PATH=$libdir GUEST_API_DEBUG_LOG=stderr timeout -k 5 60 "$work/vnf" --name legacy-make --interval 200 \
    --socket "$work/run/heartbeat.sock" --state-dir "$work" >"$work/vnf.log" 2>&1 &
vnf_pid=$!  # timeout's; the VNF is its child
registered() { sed -n 's/.*application legacy-make (pid \([0-9]*\)) registered.*/\1/p' "$work/daemon.log" | head -n1; }
for _ in $(seq 200); do [ -n "$(registered)" ] && break; sleep 0.1; done
pid=$(registered)
[ -n "$pid" ] || fail "the VNF never registered"
[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$vnf_pid" ] || fail "registered pid $pid is not our VNF"
# Answers the daemon's challenges through the drop-in library.
for _ in $(seq 200); do grep -q "health check #3 -> healthy" "$work/vnf.log" && break; sleep 0.1; done
grep -q "health check #3 -> healthy" "$work/vnf.log" || fail "the VNF answered no challenges: $(tail -3 "$work/vnf.log")"
kill -9 "$pid"
died="application legacy-make (pid $pid) disconnected without deregistering"
for _ in $(seq 100); do grep -q "$died" "$work/daemon.log" && break; sleep 0.1; done
grep -q "$died" "$work/daemon.log" || fail "the daemon did not see the VNF die"
echo "ok: built the legacy way, registered, answered, death seen"
