#!/usr/bin/env bash
# avp-switch tests: `ip netns` for the TAP tests (iproute2) and `mount`/
# `timeout` (util-linux, coreutils: in every Debian). Idempotent: apt_install
# skips what is installed.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

apt_install iproute2
