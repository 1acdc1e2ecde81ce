#!/usr/bin/env bash
# consumer_test.sh PKG_DIR CONSUMER_SRC WORK_DIR: the runtime and -dev
# packages unpacked into a throwaway root (dpkg -x), and an application from
# outside the project built against that root the two ways VNF builds do:
#   pkg-config (PKG_CONFIG_SYSROOT_DIR / PKG_CONFIG_LIBDIR at the root): C and
#     C++ against guest-heartbeat, C against the legacy guest-heartbeat-api
#     (which brings guest-common-api), and C linked statically (--static);
#   CMake: find_package(GuestHeartbeat) through CMAKE_PREFIX_PATH, the same
#     four programs (CONSUMER_SRC/CMakeLists.txt).
# Each program then registers with the packaged guest-heartbeatd (run from
# the root on a private socket) and must print that it is registered; each is
# checked to need the library it should (readelf NEEDED).
set -euo pipefail
pkg_dir=$1 src=$2 work=$3
. "$(dirname "$0")/consumer_lib.sh"
stage_packages libguest-heartbeat1 libguest-common-api3 libguest-heartbeat-api3 libguest-heartbeat-dev guest-heartbeatd

# --- pkg-config ---------------------------------------------------------
# shellcheck disable=SC2046 # word splitting of pkg-config's output is wanted
{
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/modern_c" "$src/modern.c" $(pc --cflags --libs guest-heartbeat)
    timeout -k 5 120 c++ -std=c++17 -Wall -Werror -o "$work/pc/modern_cxx" "$src/modern.cpp" \
        $(pc --cflags --libs guest-heartbeat)
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/legacy_c" "$src/legacy.c" $(pc --cflags --libs guest-heartbeat-api)
    # Static: the archive only (-Wl,-Bstatic for our library), the system's
    # libraries as shared ones, as pkg-config --static lists them.
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/modern_c_static" "$src/modern.c" \
        $(pc --cflags guest-heartbeat) "$libdir/libguest_heartbeat.a" \
        $(pc --static --libs-only-l guest-heartbeat | sed 's/-lguest_heartbeat//')
}
echo "ok: pkg-config builds (C, C++, legacy C, static C)"

# --- CMake -------------------------------------------------------------------
cmake_consumer GuestHeartbeat
echo "ok: CMake builds through find_package(GuestHeartbeat) (C, C++, legacy C, static C)"

# --- what they link ------------------------------------------------------------
for dir in "$work/pc" "$work/cmake"; do
    expect_needed "$dir/modern_c" yes libguest_heartbeat.so.1
    expect_needed "$dir/modern_cxx" yes libguest_heartbeat.so.1
    expect_needed "$dir/legacy_c" yes libguest_heartbeat_api.so.3
    expect_needed "$dir/legacy_c" yes libguest_common_api.so.3
    expect_needed "$dir/legacy_c" no libguest_heartbeat.so.1
    expect_needed "$dir/modern_c_static" no libguest_heartbeat
done

# --- they work: registered with the packaged daemon ----------------------------
run=$work/run
printf 'HB_INTERVAL=1000\n' >"$run/hb.conf"
LD_LIBRARY_PATH=$libdir timeout -k 5 120 "$root/usr/sbin/guest-heartbeatd" --listen "unix:$run/host.sock" \
    --config "$run/hb.conf" --socket-dir "$run" --legacy-socket "$run/legacy.sock" --name consumer-test >"$run/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$run/heartbeat.sock" ] && break; sleep 0.1; done
[ -S "$run/heartbeat.sock" ] || { echo "FAIL: the packaged guest-heartbeatd did not start:"; cat "$run/daemon.log"; exit 1; }
for dir in pc cmake; do
    for prog in modern_c modern_cxx modern_c_static legacy_c; do
        name="$dir-${prog//_/-}"
        if [ "$prog" = legacy_c ]; then
            out=$(GUEST_HEARTBEAT_SOCKET=$run/heartbeat.sock GUEST_API_DEBUG_LOG=stderr LD_LIBRARY_PATH=$libdir \
                  timeout -k 5 60 "$work/$dir/$prog" "$name" 2>&1) || true
        else
            out=$(LD_LIBRARY_PATH=$libdir timeout -k 5 60 "$work/$dir/$prog" "$run/heartbeat.sock" "$name" 2>&1) || true
        fi
        expect_output "$dir/$prog" "$name registered" "$out"
    done
done
if ! grep -q "pc-modern-c (pid" "$run/daemon.log"; then
    echo "FAIL: the daemon's log does not show the registrations:"; cat "$run/daemon.log"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || exit 1
echo "PASS: the -dev package builds C and C++ consumers with pkg-config and CMake, shared, legacy and static"
