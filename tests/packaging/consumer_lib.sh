# Sourced by consumer_test.sh and sg_consumer_test.sh: what building an
# outside application against unpacked packages takes, whatever the part.
# Expects $pkg_dir, $src and $work; sets $arch, $root, $libdir, $failures.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
root=$work/root
libdir=$root/usr/lib/$arch
failures=0

# stage_packages PACKAGE...: a fresh $work with the packages unpacked into $root.
stage_packages() {
    rm -rf "$work"
    mkdir -p "$root" "$work/pc" "$work/cmake" "$work/run"
    local p deb
    for p in "$@"; do
        deb=$(find "$pkg_dir" -maxdepth 1 -name "${p}_*.deb" | head -n1)
        [ -n "$deb" ] || { echo "FAIL: no $p package in $pkg_dir"; exit 1; }
        dpkg-deb -x "$deb" "$root"
    done
}

# pkg-config answering from the staged root only.
pc() { PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$libdir/pkgconfig timeout -k 5 30 pkg-config "$@"; }

# cmake_consumer CMAKE_PACKAGE: $src configured and built in $work/cmake with
# the staged root first on CMAKE_PREFIX_PATH; the package must come from there.
cmake_consumer() {
    timeout -k 5 120 cmake -S "$src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$root/usr" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_FLAGS="-Wall -Werror" -DCMAKE_CXX_FLAGS="-Wall -Werror" \
        >/dev/null
    timeout -k 5 300 cmake --build "$work/cmake" >/dev/null
    grep -q "$libdir/cmake/$1" "$work/cmake/CMakeCache.txt" ||
        { echo "FAIL: CMake did not take $1 from the staged root"; exit 1; }
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
expect_needed() {   # expect_needed BINARY yes|no LIBRARY
    local n has=no
    n=$(needed "$1")
    [[ $n == *"$3"* ]] && has=yes
    if [ "$has" != "$2" ]; then
        echo "FAIL: ${1#"$work"/} should need $3: $2, but NEEDED is: $n"
        failures=$((failures + 1))
    fi
}

# expect_output NAME WANT OUTPUT: one program's run printed WANT.
expect_output() {
    if [[ $3 == *"$2"* ]]; then
        echo "ok: $1: $3"
    else
        echo "FAIL: $1: wanted \"$2\", got: $3"
        failures=$((failures + 1))
    fi
}
