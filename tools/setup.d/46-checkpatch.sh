#!/usr/bin/env bash
# checkpatch.pl for the avp-kmod style test: Debian ships it only inside the
# kernel source tarball (linux-source-X.Y, the guest kernel's series), from
# which the script and the two data files it reads are extracted once into
# /var/cache/gsdk/checkpatch. Idempotent: nothing happens when they are there.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

KERNEL_CACHE=${GSDK_GUEST_KERNEL_DIR:-/var/cache/gsdk/guest-kernel}
DEST=${GSDK_CHECKPATCH_DIR:-/var/cache/gsdk/checkpatch}
files=(checkpatch.pl spelling.txt const_structs.checkpatch)

have_all() { local f; for f in "${files[@]}"; do [ -s "$DEST/$f" ] || return 1; done; }
have_all && exit 0

if [ ! -s "$KERNEL_CACHE/version" ]; then
    echo "46-checkpatch: no guest kernel in $KERNEL_CACHE: run 40-guest-kernel.sh first" >&2
    exit 1
fi
series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' "$KERNEL_CACHE/version")
apt_install "linux-source-$series"
tarball=/usr/src/linux-source-$series.tar.xz
[ -s "$tarball" ] || { echo "46-checkpatch: $tarball missing after installing linux-source-$series" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
members=()
for f in "${files[@]}"; do members+=("linux-source-$series/scripts/$f"); done
tar -xJf "$tarball" -C "$tmp" "${members[@]}"
$SUDO mkdir -p "$DEST"
for f in "${files[@]}"; do $SUDO install -m 0644 "$tmp/linux-source-$series/scripts/$f" "$DEST/$f"; done
$SUDO chmod 0755 "$DEST/checkpatch.pl"
echo "46-checkpatch: checkpatch.pl from linux-source-$series in $DEST"
