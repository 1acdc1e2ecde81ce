#!/usr/bin/env bash
# build_clean.sh SRC_DIR MODEL_DIR KERNEL_BUILD_DIR WORK_DIR
# Builds avp_net.ko with W=1 and sparse (C=1) in a fresh copy laid out like
# the source tree; fails on any output line that is not Kbuild's own progress
# (every compiler warning and every sparse complaint is such a line), or when
# sparse did not check every source.
set -euo pipefail
src=$1 model=$2 kdir=$3 work=$4

command -v sparse >/dev/null || { echo "FAIL: sparse is not installed (tools/setup.d/45-avp-kmod.sh)"; exit 1; }
rm -rf "$work"
mkdir -p "$work/avp-kmod"
cp "$src"/Kbuild "$src"/*.c "$src"/*.h "$work/avp-kmod/"
ln -s "$model" "$work/avp-model"

status=0
timeout -k 5 240 make -C "$kdir" M="$work/avp-kmod" W=1 C=1 modules > "$work/build.log" 2>&1 || status=$?
cat "$work/build.log"
if [ "$status" != 0 ]; then
    echo "FAIL: the build exited with $status"
    exit 1
fi
# Kbuild's progress lines, and its note that BTF needs the kernel's vmlinux.
noise='^(make(\[[0-9]+\])?: (Entering|Leaving) directory|  (CC|CHECK|LD|MODPOST|BTF) |Skipping BTF generation )'
complaints=$(grep -Ev "$noise" "$work/build.log" || true)
if [ -n "$complaints" ]; then
    echo "FAIL: the build printed warnings or sparse complaints:"
    echo "$complaints"
    exit 1
fi
for f in avp_main.c avp_rx.c avp_tx.c avp_tso.c avp_shm.c; do
    grep -q "  CHECK   $work/avp-kmod/$f" "$work/build.log" || { echo "FAIL: sparse did not check $f"; exit 1; }
done
[ -f "$work/avp-kmod/avp_net.ko" ] || { echo "FAIL: no avp_net.ko"; exit 1; }
echo "PASS: avp_net.ko built with W=1 and sparse, no warning"
