#!/usr/bin/env bash
# The AVP kernel driver (avp-kmod/): headers of the guest kernel (the version
# 40-guest-kernel.sh cached, which may differ from the host's running
# kernel), sparse for `make C=1`, ethtool copied into the test guest, and dkms
# for the build-through-dkms test. Idempotent: apt_install skips what is there.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

CACHE_DIR=${GSDK_GUEST_KERNEL_DIR:-/var/cache/gsdk/guest-kernel}
if [ ! -s "$CACHE_DIR/version" ]; then
    echo "45-avp-kmod: no guest kernel in $CACHE_DIR: run 40-guest-kernel.sh first" >&2
    exit 1
fi
kver=$(cat "$CACHE_DIR/version")

apt_install "linux-headers-$kver" sparse ethtool dkms
