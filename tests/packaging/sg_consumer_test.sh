#!/usr/bin/env bash
# sg_consumer_test.sh PKG_DIR CONSUMER_SRC WORK_DIR: libservergroup2,
# libserver-group-dev and server-groupd unpacked into a throwaway root
# (dpkg -x), and an application from outside the project built against it:
#   pkg-config (PKG_CONFIG_SYSROOT_DIR / PKG_CONFIG_LIBDIR at the root): C and
#     C++ against server-group, C linked statically (--static), and a legacy
#     C source linked -lservergroup as the original library's makefiles do;
#   CMake: find_package(ServerGroup) through CMAKE_PREFIX_PATH, the same four
#     programs (CONSUMER_SRC/CMakeLists.txt).
# Each program then reaches the packaged server-groupd (run from the root on
# a private socket directory, no host connected): the modern ones are
# accepted, the legacy one's broadcast is refused for want of a host. Each is
# checked to need the library it should (readelf NEEDED).
set -euo pipefail
pkg_dir=$1 src=$2 work=$3
. "$(dirname "$0")/consumer_lib.sh"
stage_packages libservergroup2 libserver-group-dev server-groupd

# --- pkg-config ---------------------------------------------------------
# shellcheck disable=SC2046 # word splitting of pkg-config's output is wanted
{
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/modern_c" "$src/modern.c" $(pc --cflags --libs server-group)
    timeout -k 5 120 c++ -std=c++17 -Wall -Werror -I"$src" -o "$work/pc/modern_cxx" "$src/modern.cpp" \
        $(pc --cflags --libs server-group)
    # The original library's link line (-ljson-c is not needed).
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/legacy_c" "$src/legacy.c" $(pc --cflags server-group) \
        $(pc --libs-only-L server-group) -lservergroup
    timeout -k 5 120 cc -Wall -Werror -o "$work/pc/modern_c_static" "$src/modern.c" \
        $(pc --cflags server-group) "$libdir/libserver_group.a" \
        $(pc --static --libs-only-l server-group | sed 's/-lserver_group//')
}
echo "ok: pkg-config builds (C, C++, legacy C with -lservergroup, static C)"

# --- CMake -------------------------------------------------------------------
cmake_consumer ServerGroup
echo "ok: CMake builds through find_package(ServerGroup) (C, C++, legacy C, static C)"

# --- what they link ------------------------------------------------------------
for dir in "$work/pc" "$work/cmake"; do
    for prog in modern_c modern_cxx legacy_c; do expect_needed "$dir/$prog" yes libservergroup.so.2; done
    expect_needed "$dir/modern_c_static" no libservergroup
done

# --- they work: the packaged daemon serves them --------------------------------
run=$work/run
# No legacy datagrams: their abstract names are one per network namespace,
# and other tests' daemons may hold them.
printf 'LEGACY_DATAGRAMS=no\n' >"$run/sg.conf"
LD_LIBRARY_PATH=$libdir timeout -k 5 120 "$root/usr/sbin/server-groupd" --listen "unix:$run/host.sock" \
    --config "$run/sg.conf" --socket-dir "$run/sock" >"$run/daemon.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$run/sock/client.sock" ] && break; sleep 0.1; done
[ -S "$run/sock/client.sock" ] || { echo "FAIL: the packaged server-groupd did not start:"; cat "$run/daemon.log"; exit 1; }
for dir in pc cmake; do
    for prog in modern_c modern_cxx modern_c_static legacy_c; do
        name="$dir-${prog//_/-}"
        if [ "$prog" = legacy_c ]; then
            out=$(SERVER_GROUP_SOCKET=$run/sock/client.sock LD_LIBRARY_PATH=$libdir \
                  timeout -k 5 60 "$work/$dir/$prog" "$name" 2>&1) || true
            want="$name reached server-groupd"
        else
            out=$(LD_LIBRARY_PATH=$libdir timeout -k 5 60 "$work/$dir/$prog" "$run/sock/client.sock" "$name" 2>&1) || true
            want="$name accepted; status query: Host is down"
        fi
        expect_output "$dir/$prog" "$want" "$out"
    done
done
if ! grep -q "connected" "$run/daemon.log"; then
    echo "FAIL: the daemon's log does not show the clients:"; cat "$run/daemon.log"
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || exit 1
echo "PASS: the -dev package builds C and C++ consumers with pkg-config and CMake, shared, legacy and static"
