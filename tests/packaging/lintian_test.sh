#!/usr/bin/env bash
# lintian_test.sh PKG_DIR: lintian finds no error in the built packages.
# Warnings and notes are printed (docs/packaging.md lists the accepted ones).
set -euo pipefail
pkg_dir=$1
changes=$(find "$pkg_dir" -maxdepth 1 -name '*.changes' | head -n1)
[ -n "$changes" ] || { echo "FAIL: no .changes file in $pkg_dir"; exit 1; }
status=0
timeout -k 5 600 lintian --fail-on error --display-info "$changes" || status=$?
if [ "$status" -ne 0 ]; then
    echo "FAIL: lintian reports errors (status $status)"
    exit 1
fi
echo "PASS: lintian reports no error for $(basename "$changes")"
