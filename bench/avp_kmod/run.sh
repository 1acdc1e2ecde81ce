#!/usr/bin/env bash
# bench/avp_kmod/run.sh BUILD [--rounds N] [--tcp-mb MB] [--backend auto|tap|socket]
# The AVP kernel driver beside virtio-net in one QEMU guest (see run.py).
set -euo pipefail
exec python3 "$(dirname "$0")/run.py" "$@"
