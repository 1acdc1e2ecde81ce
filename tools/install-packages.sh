#!/usr/bin/env bash
# install-packages.sh [--root DIR] [--packages DIR] [--no-build] [PACKAGE...]
# Installs the project's Debian packages the way an operator does, building
# them first when needed (tools/build-packages.sh; default DIR build/packages;
# --no-build takes the packages in DIR as they are).
#   without --root: on this machine, with apt (dependencies from the archive);
#   --root DIR: into a system image's root directory with dpkg --root (the
#     maintainer scripts run chrooted there, with no systemd or udev running);
#     the dependencies must already be in the image (dpkg names any missing).
# PACKAGE: package names; default: what a guest image needs (the runtime
# libraries and the guest daemons). `all` installs every package built.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
root=
pkg_dir=$src/build/packages
build=yes
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --packages) pkg_dir=$2; shift 2 ;;
        --no-build) build=no; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        -*) echo "install-packages: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
# The guest side; parts add their daemon packages here (docs/packaging.md).
GUEST_PACKAGES=(libguest-heartbeat1 libguest-common-api3 libguest-heartbeat-api3 guest-heartbeatd
                libservergroup2 server-groupd libguest-scale1 guest-scaled)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${GUEST_PACKAGES[@]}")

[ "$build" = no ] || "$src/tools/build-packages.sh" "$pkg_dir"
debs=()
if [ "${wanted[*]}" = all ]; then
    mapfile -t debs < <(find "$pkg_dir" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | sort)
else
    for p in "${wanted[@]}"; do
        deb=$(find "$pkg_dir" -maxdepth 1 -name "${p}_*.deb" | head -n1)
        [ -n "$deb" ] || { echo "install-packages: no package $p in $pkg_dir" >&2; exit 1; }
        debs+=("$deb")
    done
fi

if [ -n "$root" ]; then
    [ -x "$root/usr/bin/dpkg" ] || { echo "install-packages: $root holds no Debian system" >&2; exit 1; }
    timeout -k 10 600 dpkg --root="$root" --force-unsafe-io -i "${debs[@]}"
else
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    # ./path makes apt take the files and fetch their dependencies.
    local_debs=()
    for d in "${debs[@]}"; do local_debs+=("$(cd "$(dirname "$d")" && pwd)/$(basename "$d")"); done
    DEBIAN_FRONTEND=noninteractive timeout -k 10 1200 $SUDO apt-get install -y -q --no-install-recommends "${local_debs[@]}"
fi
echo "install-packages: installed $(printf '%s ' "${debs[@]##*/}")${root:+into $root}"
