#!/usr/bin/env bash
# Builds (release) and runs the heartbeat benchmark; prints figures and anchors.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target heartbeat_bench -j "$(nproc)" | tail -1
exec build/bench/heartbeat/heartbeat_bench "$@"
