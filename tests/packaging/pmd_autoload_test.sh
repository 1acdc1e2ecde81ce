#!/usr/bin/env bash
# pmd_autoload_test.sh PKG_DIR WORK_DIR: the gsdk-avp-pmd package puts the
# driver where Debian's DPDK loads drivers from at start-up, so a stock DPDK
# application uses it with no -d. The package's file is laid over DPDK's
# driver directory in a private mount namespace (the host's stays as it is);
# dpdk-testpmd, given an AVP vdev and no -d, must load the library and hand
# the device to our driver.
set -euo pipefail
pkg_dir=$1 work=$2
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb=$(find "$pkg_dir" -maxdepth 1 -name 'gsdk-avp-pmd_*.deb' | head -n1)
[ -n "$deb" ] || { echo "FAIL: no gsdk-avp-pmd package in $pkg_dir"; exit 1; }
rm -rf "$work"
mkdir -p "$work/stage" "$work/pmds"
dpkg-deb -x "$deb" "$work/stage"
lib=$(find "$work/stage/usr/lib/$arch/dpdk" -name librte_net_gsdk_avp.so | head -n1)
[ -n "$lib" ] || { echo "FAIL: the package carries no librte_net_gsdk_avp.so under /usr/lib/$arch/dpdk"; exit 1; }
dir=/usr/lib/$arch/dpdk/$(basename "$(dirname "$lib")")
[ -d "$dir" ] || { echo "FAIL: the package's directory $dir is not the installed DPDK's"; exit 1; }
cp -a "$dir/." "$work/pmds/"
cp "$lib" "$work/pmds/"

timeout -k 5 120 unshare --mount --propagation private sh -c '
    mount --bind "$1" "$2" &&
    exec dpdk-testpmd --no-huge -m 64 --no-pci --no-telemetry --log-level=lib.eal:debug \
        --vdev=net_gsdk_avp0,path=/nonexistent -- --help' sh "$work/pmds" "$dir" >"$work/testpmd.log" 2>&1 || true
if ! grep -q "open shared lib $dir/librte_net_gsdk_avp.so" "$work/testpmd.log"; then
    echo "FAIL: EAL did not load the driver from $dir:"; tail -n 20 "$work/testpmd.log"; exit 1
fi
if ! grep -q "net_gsdk_avp0: /nonexistent" "$work/testpmd.log"; then
    echo "FAIL: the AVP vdev did not reach our driver:"; grep -i avp "$work/testpmd.log" | head; exit 1
fi
echo "PASS: DPDK loads librte_net_gsdk_avp.so from $dir without -d and probes net_gsdk_avp0 with it"
