#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a fresh Debian 12
# machine. Safe to run again: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive

# Packages every part needs; parts add their own in tools/setup.d/*.sh.
PACKAGES=(
    build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
    libevent-dev libprotobuf-dev protobuf-compiler libboost-dev libsystemd-dev
    nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev python3
)

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
    done
}

apt_install() {
    local todo
    todo=$(missing_packages "$@")
    [ -z "$todo" ] && return 0
    # Refresh the lists at most once per run.
    if [ -z "${GSDK_APT_UPDATED:-}" ]; then
        $SUDO apt-get update -qq
        export GSDK_APT_UPDATED=1
    fi
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $todo
}
export -f missing_packages apt_install
export SUDO

apt_install "${PACKAGES[@]}"

for step in tools/setup.d/*.sh; do
    [ -e "$step" ] || continue
    echo "setup: $step"
    bash "$step"
done
# GSDK_FROM_PACKAGES=1: install the guest side from the Debian packages
# (built first), as an operator installs it, not from the build tree.
if [ -n "${GSDK_FROM_PACKAGES:-}" ]; then
    echo "setup: installing from the Debian packages"
    ./tools/install-packages.sh
fi
echo "setup: done"
