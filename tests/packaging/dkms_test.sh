#!/usr/bin/env bash
# dkms_test.sh PKG_DIR KERNEL_VERSION WORK_DIR: the avp-net-dkms package,
# unpacked into a throwaway root, builds avp_net.ko through dkms for the
# guest kernel's installed headers (in a private DKMS tree, nothing touches
# the host's); the package depends on dkms and its postinst hands the module
# to dkms, as dh_dkms makes it.
set -euo pipefail
pkg_dir=$1 kver=$2 work=$3
deb=$(find "$pkg_dir" -maxdepth 1 -name 'avp-net-dkms_*.deb' | head -n1)
[ -n "$deb" ] || { echo "FAIL: no avp-net-dkms package in $pkg_dir"; exit 1; }
command -v dkms >/dev/null || { echo "FAIL: dkms is not installed (tools/setup.d/50-packaging.sh)"; exit 1; }
rm -rf "$work"
mkdir -p "$work/root" "$work/tree" "$work/control"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"

dpkg-deb --field "$deb" Depends | grep -qw dkms || { echo "FAIL: avp-net-dkms does not depend on dkms"; exit 1; }
for want in DKMS_NAME=avp-net DKMS_VERSION=1.0.0 /usr/lib/dkms/common.postinst; do
    grep -qF "$want" "$work/control/postinst" ||
        { echo "FAIL: the postinst does not hand avp-net 1.0.0 to dkms (no $want):"; cat "$work/control/postinst"; exit 1; }
done
grep -q 'dkms remove' "$work/control/prerm" || { echo "FAIL: the prerm does not remove the module from dkms"; exit 1; }

conf=$work/root/usr/src/avp-net-1.0.0/dkms.conf
[ -f "$conf" ] || { echo "FAIL: no /usr/src/avp-net-1.0.0/dkms.conf in the package"; exit 1; }
timeout -k 5 300 dkms build -m avp-net -v 1.0.0 -k "$kver" --dkmstree "$work/tree" --sourcetree "$work/root/usr/src"
ko=$(find "$work/tree/avp-net/1.0.0/$kver" -name 'avp_net.ko*' | head -n1)
[ -n "$ko" ] || { echo "FAIL: dkms built no avp_net.ko"; exit 1; }
modinfo -F vermagic "$ko" | grep -q "^$kver " || { echo "FAIL: $ko is not for $kver"; exit 1; }
echo "PASS: the avp-net-dkms package builds $(basename "$ko") for $kver"
