#!/usr/bin/env bash
# Builds the project twice (release-with-debug-info with gcc, and ASan+UBSan with
# clang, which also builds the libFuzzer targets) and runs every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
LAUNCHER=()
command -v ccache >/dev/null && LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# The Debian package tests (tests/packaging) run in this build only.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGSDK_PACKAGING_TESTS=ON "${LAUNCHER[@]}" >/dev/null
cmake --build build -j "$JOBS"

CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DGSDK_SANITIZE=ON -DGSDK_FUZZ=ON "${LAUNCHER[@]}" >/dev/null
cmake --build build-asan -j "$JOBS"

status=0
echo "== tests (release build) =="
ctest --test-dir build --output-on-failure -j "$JOBS" || status=1
echo "== tests (ASan + UBSan build) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE no-sanitize || status=1
exit $status
