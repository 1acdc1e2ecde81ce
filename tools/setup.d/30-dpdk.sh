#!/usr/bin/env bash
# DPDK for the AVP poll-mode driver: Debian's runtime and dev packages, plus the
# driver-SDK headers Debian's libdpdk-dev leaves out (DPDK is built there without
# enable_driver_sdk). The headers are taken from Debian's source package of the
# exact installed version and copied outside the repo; nothing from DPDK is
# committed. Idempotent: a version stamp makes a second run a no-op.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

SDK_DIR=${GSDK_DPDK_SDK_DIR:-/usr/local/include/gsdk-dpdk-driver-sdk}
CACHE_DIR=/var/cache/gsdk/dpdk-src
SRC_LIST=/etc/apt/sources.list.d/gsdk-deb-src.sources
HEADERS=(ethdev_driver.h ethdev_pci.h ethdev_vdev.h bus_pci_driver.h
         bus_vdev_driver.h dev_driver.h bus_driver.h)

apt_install dpdk dpdk-dev libdpdk-dev dpkg-dev xz-utils

version=$(dpkg-query -W -f='${Version}' libdpdk-dev)
if [ -f "$SDK_DIR/.version" ] && [ "$(cat "$SDK_DIR/.version")" = "$version" ]; then
    exit 0
fi

# Source entries for every suite a binary version may come from (point
# releases live in bookworm, fixes in -updates and -security).
if [ ! -f "$SRC_LIST" ]; then
    $SUDO tee "$SRC_LIST" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi

$SUDO mkdir -p "$CACHE_DIR"
cd "$CACHE_DIR"
if [ ! -f "$CACHE_DIR/.version" ] || [ "$(cat "$CACHE_DIR/.version")" != "$version" ]; then
    $SUDO rm -rf "$CACHE_DIR"/dpdk-* "$CACHE_DIR"/dpdk_*
    # apt warns about downloading as root into a root-owned directory; keep
    # the output for failures only.
    if ! $SUDO apt-get source -qq "dpdk=$version" >"$CACHE_DIR/fetch.log" 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get source -qq "dpdk=$version" >"$CACHE_DIR/fetch.log" 2>&1 ||
            { cat "$CACHE_DIR/fetch.log" >&2; echo "30-dpdk: cannot fetch DPDK $version source" >&2; exit 1; }
    fi
    echo "$version" | $SUDO tee "$CACHE_DIR/.version" >/dev/null
fi
srcdir=$(find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -type d -name 'dpdk-*' | head -n1)
[ -n "$srcdir" ] || { echo "30-dpdk: no DPDK source tree in $CACHE_DIR" >&2; exit 1; }

# Copy the named headers, then every header they include (transitively) that
# the installed libdpdk-dev does not ship.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A seen=()
queue=("${HEADERS[@]}")
while [ ${#queue[@]} -gt 0 ]; do
    h=${queue[0]}
    queue=("${queue[@]:1}")
    [ -n "${seen[$h]:-}" ] && continue
    seen[$h]=1
    if [ -e "/usr/include/dpdk/$h" ] || [ -e "/usr/include/x86_64-linux-gnu/dpdk/$h" ]; then
        continue
    fi
    path=$(find "$srcdir/lib" "$srcdir/drivers/bus" -name "$h" | head -n1)
    if [ -z "$path" ]; then
        continue   # a system header (stdio.h, sys/queue.h...)
    fi
    cp "$path" "$tmp/$h"
    while read -r inc; do
        queue+=("$inc")
    done < <(sed -n 's/^#include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$path")
done
for h in "${HEADERS[@]}"; do
    [ -f "$tmp/$h" ] || { echo "30-dpdk: $h not found in $srcdir" >&2; exit 1; }
done

$SUDO mkdir -p "$SDK_DIR"
$SUDO cp "$tmp"/*.h "$SDK_DIR"/
echo "$version" | $SUDO tee "$SDK_DIR/.version" >/dev/null
