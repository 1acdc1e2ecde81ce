#!/usr/bin/env bash
# gs_consumer_test.sh PKG_DIR CONSUMER_SRC WORK_DIR: libguest-scale1,
# libguest-scale-dev and guest-scaled unpacked into a throwaway root
# (dpkg -x), and an application from outside the project built against it:
#   pkg-config (PKG_CONFIG_SYSROOT_DIR / PKG_CONFIG_LIBDIR at the root): C and
#     C++ against guest-scale, and C linked statically (--static);
#   CMake: find_package(GuestScale) through CMAKE_PREFIX_PATH, the same three
#     programs (CONSUMER_SRC/CMakeLists.txt).
# Each program then subscribes to the packaged guest-scaled (run from the
# root on a private socket directory, acting on a sysfs tree of its own with
# CPUs 0, 1 and 3 online and 2 offline, no server-groupd): each is accepted,
# offered the chooser role in turn and told the online CPUs the daemon read.
# Each is checked to need the library it should (readelf NEEDED).
set -euo pipefail
pkg_dir=$1 src=$2 work=$3
. "$(dirname "$0")/consumer_lib.sh"
stage_packages libguest-scale1 libguest-scale-dev guest-scaled

# --- pkg-config ---------------------------------------------------------
# shellcheck disable=SC2046 # word splitting of pkg-config's output is wanted
{
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/scale_c" "$src/scale.c" $(pc --cflags --libs guest-scale)
    timeout -k 5 120 c++ -std=c++17 -Wall -Werror -I"$src" -o "$work/pc/scale_cxx" "$src/scale.cpp" \
        $(pc --cflags --libs guest-scale)
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/scale_c_static" "$src/scale.c" \
        $(pc --cflags guest-scale) "$libdir/libguest_scale.a" \
        $(pc --static --libs-only-l guest-scale | sed 's/-lguest_scale//')
}
echo "ok: pkg-config builds (C, C++, static C)"

# --- CMake -------------------------------------------------------------------
cmake_consumer GuestScale
echo "ok: CMake builds through find_package(GuestScale) (C, C++, static C)"

# --- what they link ------------------------------------------------------------
for dir in "$work/pc" "$work/cmake"; do
    for prog in scale_c scale_cxx; do expect_needed "$dir/$prog" yes libguest_scale.so.1; done
    expect_needed "$dir/scale_c_static" no libguest_scale
done

# --- they work: the packaged daemon serves them --------------------------------
run=$work/run
cpus=$run/sys/devices/system/cpu
mkdir -p "$cpus/cpu0" "$cpus/cpu1" "$cpus/cpu2" "$cpus/cpu3"
echo 1 >"$cpus/cpu1/online"
echo 0 >"$cpus/cpu2/online"
echo 1 >"$cpus/cpu3/online"
echo 0-3 >"$cpus/possible"
: >"$run/gs.conf"
LD_LIBRARY_PATH=$libdir timeout -k 5 120 "$root/usr/sbin/guest-scaled" --config "$run/gs.conf" \
    --sysfs-root "$run/sys" --service-socket "$run/no-server-groupd.sock" --socket-dir "$run/sock" \
    --helper "" --state-file "$run/offline_cpus" >"$run/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$run/sock/scale.sock" ] && break; sleep 0.1; done
[ -S "$run/sock/scale.sock" ] || { echo "FAIL: the packaged guest-scaled did not start:"; cat "$run/daemon.log"; exit 1; }
for dir in pc cmake; do
    for prog in scale_c scale_cxx scale_c_static; do
        name="$dir-${prog//_/-}"
        # One at a time: each is the only subscriber, so each is the chooser.
        out=$(LD_LIBRARY_PATH=$libdir timeout -k 5 60 "$work/$dir/$prog" "$run/sock/scale.sock" "$name" 2>&1) || true
        expect_output "$dir/$prog" "$name accepted; chooser yes; online: 0 1 3" "$out"
    done
done
if ! kill -0 "$daemon" 2>/dev/null; then
    echo "FAIL: guest-scaled did not outlive its clients:"; cat "$run/daemon.log"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || exit 1
echo "PASS: the -dev package builds C and C++ consumers with pkg-config and CMake, shared and static"
