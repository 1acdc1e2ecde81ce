#!/usr/bin/env bash
# Builds (release) and runs the guest-scale latency benchmark on a fake sysfs
# tree; run_in_guest.sh is the same in the QEMU guest (README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target scale_bench -j "$(nproc)" | tail -1
exec build/bench/guest_scale/scale_bench "$@"
