#!/usr/bin/env bash
# bench/server_group: corosync's CPG on one node is the anchor the relay is
# measured against (corosync, libcpg-dev). The bench starts its own corosync
# with a throwaway configuration in a private network namespace; the
# packaged service must not run beside it, so when this step installs the
# package on a systemd machine it stops and disables the service it started.
# Idempotent: nothing happens when both packages are installed.
set -euo pipefail

SUDO=${SUDO:-}
installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed'; }
if installed corosync && installed libcpg-dev; then
    exit 0
fi
had_corosync=no
installed corosync && had_corosync=yes
if declare -F apt_install >/dev/null; then
    apt_install corosync libcpg-dev
else
    $SUDO apt-get install -y -qq --no-install-recommends corosync libcpg-dev >/dev/null
fi
if [ "$had_corosync" = no ] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now corosync.service >/dev/null 2>&1 || true
    echo "setup: corosync installed for bench/server_group; its service is disabled"
fi
