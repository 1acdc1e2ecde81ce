#!/usr/bin/env bash
# The guest kernel for the QEMU tests under tests/vm/ (docs/vm-tests.md): Debian's
# current linux-image package is downloaded and unpacked into a cache dir, never
# installed on the host (installing would rebuild the host's initrd). Keeps an
# uncompressed vmlinux (QEMU boots it directly via PVH, ~3x faster than vmlinuz)
# and only the modules the guest images need (virtio_blk, and isofs with its
# dependency cdrom: the config
# drive of vm.scale-restore-in-guest). Idempotent through a stamp file that
# names the module list: a machine set up before a module was added fetches
# the kernel again on its next run, and only this step redoes its work.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

CACHE_DIR=${GSDK_GUEST_KERNEL_DIR:-/var/cache/gsdk/guest-kernel}
# Paths under lib/modules/<ver>/kernel/; the harness loads them in this order.
MODULES=(
    drivers/virtio/virtio_ring.ko
    drivers/virtio/virtio.ko
    drivers/virtio/virtio_pci_legacy_dev.ko
    drivers/virtio/virtio_pci_modern_dev.ko
    drivers/virtio/virtio_pci.ko
    drivers/char/virtio_console.ko
    net/core/failover.ko
    drivers/net/net_failover.ko
    drivers/net/virtio_net.ko
    drivers/uio/uio.ko
    drivers/uio/uio_pci_generic.ko
    drivers/block/virtio_blk.ko
    drivers/cdrom/cdrom.ko
    fs/isofs/isofs.ko
)

apt_install qemu-system-x86 busybox-static xz-utils cpio

image_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | sed -n 1p
}
pkg=$(image_pkg)
if [ -z "$pkg" ]; then
    $SUDO apt-get update -qq
    export GSDK_APT_UPDATED=1
    pkg=$(image_pkg)
fi
[ -n "$pkg" ] || { echo "40-guest-kernel: apt-cache names no linux-image package" >&2; exit 1; }
kver=${pkg#linux-image-}
pkg_version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')

# Headers of the same version, for out-of-tree guest modules (avp-kmod).
apt_install "linux-headers-$kver"

stamp="$pkg $pkg_version ${MODULES[*]}"
if [ -f "$CACHE_DIR/stamp" ] && [ "$(cat "$CACHE_DIR/stamp")" = "$stamp" ] &&
   [ -s "$CACHE_DIR/vmlinux" ]; then
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && apt-get download -qq "$pkg=$pkg_version" >/dev/null 2>&1); then
    # Stale package lists name a version the archive no longer has.
    $SUDO apt-get update -qq
    (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) || true
fi
deb=$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)
[ -n "$deb" ] || { echo "40-guest-kernel: apt-get download $pkg failed" >&2; exit 1; }
mkdir "$tmp/root"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/root" ./boot "./lib/modules/$kver/kernel"

# vmlinuz = boot stub + one xz stream; the first xz magic is the stream's start.
vmlinuz="$tmp/root/boot/vmlinuz-$kver"
offset=$(LC_ALL=C grep -m1 -aboP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1)
[ -n "$offset" ] || { echo "40-guest-kernel: no xz stream in $vmlinuz" >&2; exit 1; }
# --single-stream stops at the stream's end (the stub's trailer follows it).
tail -c +"$((offset + 1))" "$vmlinuz" > "$tmp/vmlinux.xz"
xz -dc --single-stream "$tmp/vmlinux.xz" > "$tmp/vmlinux"
[ "$(head -c 4 "$tmp/vmlinux" | tail -c 3)" = ELF ] || { echo "40-guest-kernel: extracted vmlinux is not ELF" >&2; exit 1; }

new="$CACHE_DIR.new"
$SUDO rm -rf "$new"
$SUDO mkdir -p "$new/modules"
$SUDO cp "$tmp/vmlinux" "$new/vmlinux"
$SUDO cp "$vmlinuz" "$new/vmlinuz"
for m in "${MODULES[@]}"; do
    src="$tmp/root/lib/modules/$kver/kernel/$m"
    [ -f "$src" ] || { echo "40-guest-kernel: $m missing from $pkg" >&2; exit 1; }
    $SUDO mkdir -p "$new/modules/$(dirname "$m")"
    $SUDO cp "$src" "$new/modules/$m"
done
printf '%s\n' "${MODULES[@]}" | $SUDO tee "$new/modules.order" >/dev/null
echo "$kver" | $SUDO tee "$new/version" >/dev/null
echo "$stamp" | $SUDO tee "$new/stamp" >/dev/null
$SUDO rm -rf "$CACHE_DIR"
$SUDO mv "$new" "$CACHE_DIR"
