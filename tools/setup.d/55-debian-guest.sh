#!/usr/bin/env bash
# A minimal Debian 12 system with systemd and udev, for the test that installs
# our .deb files into a guest and boots it under QEMU (tests/packaging/guest).
# Built once from Debian's archive with mmdebstrap and cached in CACHE_DIR:
#   rootfs.tar     the system (minbase + systemd, udev, kmod, adduser and the
#                  libraries our packages depend on), modules of the guest
#                  kernel (40-guest-kernel.sh) for virtio, virtio-serial, ext4;
#                  boot-time services the tests do not need are masked
#   initrd.cpio.gz busybox: loads the disk modules, mounts /dev/vda, switch_root
# Our packages are not in it: the test installs them into a copy, so changing
# our code never rebuilds this. Idempotent through a stamp of the recipe.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

KERNEL_DIR=${GSDK_GUEST_KERNEL_DIR:-/var/cache/gsdk/guest-kernel}
CACHE_DIR=${GSDK_DEBIAN_GUEST_DIR:-/var/cache/gsdk/debian12-guest}
RECIPE=3   # bump when anything below changes what is built
# What our guest packages need from the archive besides minbase (their
# Depends, resolved): the test installs them with dpkg, offline.
PACKAGES=(systemd-sysv udev kmod adduser procps libevent-core-2.1-7 libevent-pthreads-2.1-7 libprotobuf32
          libcurl4)
# Under lib/modules/<ver>/kernel/. The first group goes into the initramfs
# too, loaded in this order (insmod has no dependency resolution).
DISK_MODULES=(
    drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
    drivers/virtio/virtio_pci_legacy_dev.ko drivers/virtio/virtio_pci_modern_dev.ko
    drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko
    lib/crc16.ko fs/mbcache.ko fs/jbd2/jbd2.ko
    arch/x86/crypto/crc32c-intel.ko crypto/crc32c_generic.ko fs/ext4/ext4.ko
)
OTHER_MODULES=(drivers/char/virtio_console.ko fs/autofs/autofs4.ko)
# Boot-time units a test guest does not need (about 1.5 s of a 4 s boot).
MASK=(
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
    e2scrub_reap.service fstrim.timer getty@tty1.service getty-static.service
    systemd-update-utmp.service systemd-update-utmp-runlevel.service
    systemd-random-seed.service systemd-pstore.service systemd-journal-flush.service
    sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
    sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
    proc-sys-fs-binfmt_misc.automount
    systemd-firstboot.service
    modprobe@configfs.service modprobe@dm_mod.service modprobe@fuse.service modprobe@loop.service
)

apt_install mmdebstrap e2fsprogs busybox-static cpio xz-utils

[ -s "$KERNEL_DIR/version" ] || { echo "55-debian-guest: no guest kernel in $KERNEL_DIR: run 40-guest-kernel.sh first" >&2; exit 1; }
kver=$(cat "$KERNEL_DIR/version")
stamp="recipe $RECIPE kernel $kver ${PACKAGES[*]} ${DISK_MODULES[*]} ${OTHER_MODULES[*]} ${MASK[*]}"
if [ -f "$CACHE_DIR/stamp" ] && [ "$(cat "$CACHE_DIR/stamp")" = "$stamp" ] &&
   [ -s "$CACHE_DIR/rootfs.tar" ] && [ -s "$CACHE_DIR/initrd.cpio.gz" ]; then
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The guest kernel's modules, from the same image package 40-guest-kernel.sh used.
pkg="linux-image-$kver"
if ! (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
    $SUDO apt-get update -qq
    (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
        { echo "55-debian-guest: apt-get download $pkg failed" >&2; exit 1; }
fi
mkdir "$tmp/kernel"
members=()
for m in "${DISK_MODULES[@]}" "${OTHER_MODULES[@]}"; do members+=("./lib/modules/$kver/kernel/$m"); done
dpkg-deb --fsys-tarfile "$tmp"/linux-image-*.deb |
    tar -x -C "$tmp/kernel" "${members[@]}" "./lib/modules/$kver/modules.builtin" \
        "./lib/modules/$kver/modules.builtin.modinfo" "./lib/modules/$kver/modules.order"

# The system. Documentation, man pages and translations are left out.
mkdir "$tmp/root"
$SUDO mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="cp -a '$tmp/kernel/lib/modules' \"\$1/usr/lib/\"" \
    --customize-hook="chroot \"\$1\" depmod '$kver'" \
    --customize-hook='echo gsdk-guest > "$1/etc/hostname"' \
    --customize-hook='mkdir -p "$1/etc/systemd/journald.conf.d" && printf "[Journal]\nStorage=volatile\n" >"$1/etc/systemd/journald.conf.d/volatile.conf"' \
    --customize-hook="chroot \"\$1\" systemctl mask --quiet ${MASK[*]}" \
    bookworm "$tmp/rootfs.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"

# The initramfs: busybox, the disk modules, an /init that mounts the disk.
init="$tmp/initrd"
mkdir -p "$init"/{bin,dev,proc,sys,newroot,modules}
cp /bin/busybox "$init/bin/busybox"
for m in "${DISK_MODULES[@]}"; do
    cp "$tmp/kernel/lib/modules/$kver/kernel/$m" "$init/modules/"
    basename "$m" >>"$init/modules/order"
done
cat >"$init/init" <<'INIT'
#!/bin/busybox sh
# Loads the virtio disk and ext4 modules, mounts /dev/vda and hands over to
# systemd. Prints GSDK-INIT-STARTED first (the test harness waits for it).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "GSDK-INIT-STARTED" >/dev/console
while read -r m; do
    insmod "/modules/$m" || echo "initramfs: insmod $m failed" >/dev/console
done </modules/order
i=0
while [ ! -b /dev/vda ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if ! mount -t ext4 /dev/vda /newroot; then
    echo "initramfs: cannot mount /dev/vda" >/dev/console
    poweroff -f
fi
mount --move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /sbin/init
INIT
chmod +x "$init/init"
(cd "$init" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 >"$tmp/initrd.cpio.gz")

new="$CACHE_DIR.new"
$SUDO rm -rf "$new"
$SUDO mkdir -p "$new"
$SUDO cp "$tmp/rootfs.tar" "$tmp/initrd.cpio.gz" "$new/"
echo "$kver" | $SUDO tee "$new/version" >/dev/null
echo "$stamp" | $SUDO tee "$new/stamp" >/dev/null
$SUDO rm -rf "$CACHE_DIR"
$SUDO mv "$new" "$CACHE_DIR"
echo "55-debian-guest: Debian 12 guest image in $CACHE_DIR"
