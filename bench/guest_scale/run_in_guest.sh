#!/usr/bin/env bash
# guest-scale latency in the real QEMU guest (TCG, -smp 4): our path
# (vmhostd -> server-groupd -> guest-scaled), QEMU's own guest agent
# (qemu-ga, guest-set-vcpus) and a raw sysfs write, interleaved in one run.
# Usage: bench/guest_scale/run_in_guest.sh [ROUNDS]   (default 30)
# Needs the guest kernel (tools/setup.d/40-guest-kernel.sh) and
# qemu-guest-agent (tools/setup.d/50-guest-scale.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-30}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# The image holds every guest binary of the VM tests this build registered:
# the targets tests/vm/CMakeLists.txt names that exist here.
named=$( (grep -o 'TARGET_FILE:[^>]*' tests/vm/CMakeLists.txt | cut -d: -f2; echo avp_net_ko) | sort -u)
known=$(cmake --build build --target help | sed -n 's/^\([^: ]*\): .*/\1/p' | sort -u)
targets=$(comm -12 <(echo "$named") <(echo "$known"))
cmake --build build --target $targets -j "$(nproc)" | tail -1
timeout -k 5 300 ctest --test-dir build -R '^vm\.image$' --output-on-failure >/dev/null
# A QEMU guest's run: its kill deadline is the harness's own (--deadline).
exec python3 tests/vm/harness/run_scenario.py --image build/tests/vm/guest-image.cpio.gz \
    --scenario scale-bench-in-guest --deadline 1200 \
    --host-arg vmhostd=build/host/vmhostd/vmhostd --host-arg vmhostctl=build/host/vmhostctl/vmhostctl \
    --host-arg rounds="$rounds" --host-arg deadline=1200
