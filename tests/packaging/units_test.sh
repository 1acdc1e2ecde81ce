#!/usr/bin/env bash
# units_test.sh PKG_DIR WORK_DIR: every systemd unit the packages ship passes
# `systemd-analyze verify` in a root holding the packages' files (so
# ExecStart= and friends point at real programs), and the guest daemons'
# sandbox keeps its exposure (`systemd-analyze security`) at or below
# MAX_EXPOSURE, the level docs/packaging.md reports.
set -euo pipefail
pkg_dir=$1 work=$2
MAX_EXPOSURE=2.0
GUEST_DAEMON_UNITS=(guest-heartbeatd.service server-groupd.service guest-scaled.service)

rm -rf "$work"
mkdir -p "$work/root"
for deb in "$pkg_dir"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done
mapfile -t units < <(find "$work/root/lib/systemd/system" "$work/root/usr/lib/systemd/system" \
    \( -name '*.service' -o -name '*.socket' -o -name '*.timer' -o -name '*.path' \) 2>/dev/null | sort)
[ "${#units[@]}" -gt 0 ] || { echo "FAIL: no systemd unit in the packages"; exit 1; }
# `systemd-analyze verify --root` looks up the programs a unit runs, and the
# units it depends on, in that root: the packages' programs are there; the
# system's targets and the system programs the units call (/bin/kill...)
# are copied in, as a system with the packages installed would have them.
mkdir -p "$work/root/lib/systemd/system"
cp -an /lib/systemd/system/*.target "$work/root/lib/systemd/system/"
for prog in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' "${units[@]}" | sort -u); do
    if [ ! -e "$work/root$prog" ] && [ -e "$prog" ]; then
        mkdir -p "$work/root$(dirname "$prog")"
        cp -L "$prog" "$work/root$prog"
    fi
done
failures=0
for unit in "${units[@]}"; do
    name=$(basename "$unit")
    # It exits 0 on unknown keys and values it ignores, with a warning: any
    # output is a failure.
    if out=$(cd "$work" && timeout -k 5 60 systemd-analyze verify --man=no --root="$work/root" "$name" 2>&1) &&
       [ -z "$out" ]; then
        echo "ok: systemd-analyze verify $name"
    else
        echo "FAIL: systemd-analyze verify $name:"
        echo "$out" | sed 's/^/    /'
        failures=$((failures + 1))
    fi
done

for name in "${GUEST_DAEMON_UNITS[@]}"; do
    unit=$(find "$work/root" -name "$name" | head -n1)
    [ -n "$unit" ] || { echo "FAIL: $name is in no package"; failures=$((failures + 1)); continue; }
    out=$(timeout -k 5 60 systemd-analyze security --offline=yes "$unit" 2>&1) || true
    level=$(echo "$out" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
    if [ -z "$level" ]; then
        echo "FAIL: systemd-analyze security printed no exposure level for $name:"
        echo "$out" | tail -n 5
        failures=$((failures + 1))
    elif awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'; then
        echo "ok: $name exposure $level (at most $MAX_EXPOSURE)"
    else
        echo "FAIL: $name exposure $level is above $MAX_EXPOSURE:"
        echo "$out" | grep '✗' | sed 's/^/    /'
        failures=$((failures + 1))
    fi
done
[ "$failures" -eq 0 ] || exit 1
echo "PASS: ${#units[@]} units verified"
