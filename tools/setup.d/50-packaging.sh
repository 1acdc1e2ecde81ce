#!/usr/bin/env bash
# Debian packaging (debian/, tools/build-packages.sh): debhelper with the DKMS
# add-on, lintian for the checks, scdoc for the man pages (docs/man/), and
# mmdebstrap for the Debian 12 test guest (55-debian-guest.sh). Idempotent:
# apt_install skips what is there.
set -euo pipefail

SUDO=${SUDO:-}
if ! declare -F apt_install >/dev/null; then
    # Run on its own (not through tools/setup.sh).
    apt_install() { $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
fi

apt_install debhelper dh-dkms dkms lintian scdoc mmdebstrap fakeroot dpkg-dev e2fsprogs
