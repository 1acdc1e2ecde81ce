#!/usr/bin/env bash
# dkms_build.sh BUILD_DIR KERNEL_VERSION WORK_DIR
# Installs the DKMS source tree (cmake --install, component avp-kmod-dkms)
# into a private prefix and has dkms build it for the guest kernel in a
# private DKMS tree: dkms.conf, the tree's layout and the Kbuild include path
# must agree for avp_net.ko to come out.
set -euo pipefail
build=$1 kver=$2 work=$3

command -v dkms >/dev/null || { echo "FAIL: dkms is not installed (tools/setup.d/45-avp-kmod.sh)"; exit 1; }
rm -rf "$work"
mkdir -p "$work/prefix" "$work/tree"
cmake --install "$build" --prefix "$work/prefix" --component avp-kmod-dkms
src="$work/prefix/src"
[ -f "$src/avp-net-1.0.0/dkms.conf" ] || { echo "FAIL: no dkms.conf in the installed tree"; exit 1; }
timeout -k 5 240 dkms build -m avp-net -v 1.0.0 -k "$kver" --dkmstree "$work/tree" --sourcetree "$src"
ko=$(find "$work/tree/avp-net/1.0.0/$kver" -name 'avp_net.ko*' | head -n1)
[ -n "$ko" ] || { echo "FAIL: dkms built no avp_net.ko"; exit 1; }
modinfo -F vermagic "$ko" | grep -q "^$kver " || { echo "FAIL: $ko is not for $kver"; exit 1; }
echo "PASS: dkms built $ko"
