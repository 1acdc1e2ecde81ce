#!/usr/bin/env bash
# checkpatch.sh CHECKPATCH_PL SRC_DIR
# The driver's sources through the kernel's checkpatch.pl, as a reviewer of
# a driver submission would run it (--strict: CHECK lines count too). Any
# ERROR, WARNING or CHECK fails; so does a missing checkpatch.pl
# (tools/setup.d/46-checkpatch.sh installs it).
set -euo pipefail
checkpatch=$1 src=$2

[ -f "$checkpatch" ] || { echo "FAIL: $checkpatch is missing (tools/setup.d/46-checkpatch.sh)"; exit 1; }
status=0
out=$(cd "$src" && timeout -k 5 120 perl "$checkpatch" --no-tree --strict --terse --show-types \
    -f avp_main.c avp_net.h avp_rx.c avp_tx.c avp_tso.c avp_shm.c avp_shm.h 2>&1) || status=$?
echo "$out"
if [ "$status" != 0 ] || grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; then
    echo "FAIL: checkpatch.pl complained (exit $status)"
    exit 1
fi
echo "PASS: avp_main.c avp_net.h avp_rx.c avp_tx.c avp_tso.c avp_shm.c avp_shm.h checkpatch --strict clean"
