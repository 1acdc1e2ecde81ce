#!/usr/bin/env bash
# The group whose members may use the guest SDK daemons' local sockets
# (guest-heartbeatd's SOCKET_GROUP default; docs/security.md). The package
# creates it too. Idempotent: nothing happens when the group exists.
set -euo pipefail

SUDO=${SUDO:-}
if getent group guest-sdk >/dev/null; then
    exit 0
fi
$SUDO groupadd --system guest-sdk
echo "setup: created system group guest-sdk"
