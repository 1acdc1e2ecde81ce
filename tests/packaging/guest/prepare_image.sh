#!/usr/bin/env bash
# prepare_image.sh PKG_DIR WORK_DIR: the host side (the gsdk-host package
# unpacked into WORK_DIR/host) and a throwaway copy of the cached Debian 12
# guest (tools/setup.d/55-debian-guest.sh) with our guest packages installed
# the way an operator installs them into an image (tools/install-packages.sh
# --root: dpkg runs the maintainer scripts chrooted, no systemd or udev
# running), plus this test's scenario unit, packed into WORK_DIR/root.ext4.
set -euo pipefail
pkg_dir=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
cache=${GSDK_DEBIAN_GUEST_DIR:-/var/cache/gsdk/debian12-guest}
for f in rootfs.tar initrd.cpio.gz version; do
    [ -s "$cache/$f" ] || { echo "FAIL: no Debian 12 guest in $cache ($f): run tools/setup.d/55-debian-guest.sh"; exit 1; }
done
root=$work/root
rm -rf "$work"
mkdir -p "$root"
timeout -k 5 300 tar -x -C "$root" -f "$cache/rootfs.tar"

# Packages from the archive our packages need are in the cached image; ours
# come from the build.
"$src/tools/install-packages.sh" --packages "$pkg_dir" --no-build --root "$root" \
    libguest-heartbeat1 libguest-common-api3 libguest-heartbeat-api3 guest-heartbeatd \
    libservergroup2 server-groupd libguest-scale1 guest-scaled guest-sdk-examples

# Each daemon's postinst makes the group and is idempotent: configuring both
# again succeeds and leaves one group.
for daemon in guest-heartbeatd server-groupd guest-scaled; do
    timeout -k 5 60 chroot "$root" /var/lib/dpkg/info/$daemon.postinst configure 0.1.0
done
groups=$(grep -c '^guest-sdk:' "$root/etc/group" || true)
[ "$groups" = 1 ] || { echo "FAIL: $groups guest-sdk groups after configuring twice"; exit 1; }
gid=$(sed -n 's/^guest-sdk:x:\([0-9]*\):.*/\1/p' "$root/etc/group")
[ "$gid" -lt 1000 ] || { echo "FAIL: guest-sdk is not a system group (gid $gid)"; exit 1; }
echo "ok: the daemons' postinsts configured twice: one system group guest-sdk (gid $gid)"

# The test's own pieces: the scenario and its unit. The serial console is the
# scenario's output, so no getty on it.
install -D -m 0755 "$here/scenario.sh" "$root/usr/local/sbin/gsdk-scenario"
install -D -m 0644 "$src/tests/vm/guest/scenarios/lib.sh" "$root/usr/local/lib/gsdk/lib.sh"
install -D -m 0644 "$here/gsdk-scenario.service" "$root/etc/systemd/system/gsdk-scenario.service"
ln -sf ../gsdk-scenario.service "$root/etc/systemd/system/multi-user.target.wants/gsdk-scenario.service"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"

timeout -k 5 120 mkfs.ext4 -q -F -L gsdk-root -d "$root" "$work/root.ext4" 1G
cp "$cache/initrd.cpio.gz" "$work/initrd.cpio.gz"
rm -rf "$root"
host=$(find "$pkg_dir" -maxdepth 1 -name 'gsdk-host_*.deb' | head -n1)
[ -n "$host" ] || { echo "FAIL: no gsdk-host package in $pkg_dir"; exit 1; }
dpkg-deb -x "$host" "$work/host"
echo "ok: guest disk $work/root.ext4 ($(du -h "$work/root.ext4" | cut -f1) used)"
