#!/usr/bin/env bash
# guest-scale's extra packages: libcurl (guest-scale-restore reads the
# metadata service), genisoimage (the VM test builds a config drive, an ISO
# 9660 image labelled config-2) and qemu-guest-agent (bench/guest_scale runs
# QEMU's own agent in the test guest beside ours). Idempotent: apt_install
# skips what is installed.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

apt_install libcurl4-openssl-dev genisoimage qemu-guest-agent
