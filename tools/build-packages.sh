#!/usr/bin/env bash
# build-packages.sh [--no-dbgsym] [OUT_DIR]: builds the Debian packages (debian/) with
# `dpkg-buildpackage -us -uc -b` in a copy of the source tree and leaves the
# .deb files in OUT_DIR (default build/packages). The copy holds the files git
# knows of (tracked, or new and not ignored), so build trees never end up in
# the source package. What the package build does not read stays out (tests/,
# bench/, tools/ but this script, README.md, the docs no package carries), so
# changing a test or a design note does not rebuild the packages. A second run
# with the same sources only says where the packages are: the stamp is a hash
# of every copied file's path, mode and content. The build runs ninja on
# every core (DEB_BUILD_OPTIONS parallel=) and through ccache when installed,
# in the user's own cache (debhelper points HOME elsewhere during the build)
# with the copy as base_dir, so that package builds from any checkout share
# results.
#   --no-dbgsym: no -dbgsym packages (DEB_BUILD_OPTIONS noddebs): what the
#   tests build, as nothing checks debug symbols and they are most of the
#   bytes to compress and for lintian to read.
set -euo pipefail
options="nocheck parallel=${GSDK_PACKAGE_JOBS:-$(nproc)}"
if [ "${1:-}" = --no-dbgsym ]; then
    options="$options noddebs"
    shift
fi
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build/packages}" && cd "${1:-$src/build/packages}" && pwd)
work="$out/work"

cd "$src"
mapfile -t packaged_docs < <(cat debian/*.docs)   # the docs/ files that packages carry
mapfile -d '' files < <(git ls-files -z --cached --others --exclude-standard | sort -z)
present=()
for f in "${files[@]}"; do
    case "$f" in
        tools/build-packages.sh | docs/CMakeLists.txt | docs/man/*) ;;
        tests/* | bench/* | tools/* | README.md) continue ;;
        docs/*) [[ " ${packaged_docs[*]} " == *" $f "* ]] || continue ;;
    esac
    [ -e "$f" ] && present+=("$f")   # deleted but not yet committed
done
stamp=$( { printf '%s\n' "$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null)" "$options"
           for f in "${present[@]}"; do stat -c '%n %a' -- "$f"; done
           cat -- "${present[@]}" | sha256sum; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && ls "$out"/*.deb >/dev/null 2>&1; then
    echo "build-packages: up to date in $out"
    exit 0
fi

rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.buildinfo "$out"/*.changes "$out/stamp"
rm -rf "$work"
mkdir -p "$work/guest-sdk"
printf '%s\0' "${present[@]}" | tar -c --null -T - | tar -x -C "$work/guest-sdk"

export PATH
if [ -d /usr/lib/ccache ] && command -v ccache >/dev/null; then
    PATH=/usr/lib/ccache:$PATH
    CCACHE_DIR=$(ccache --get-config cache_dir)
    CCACHE_BASEDIR="$work/guest-sdk"
    export CCACHE_DIR CCACHE_BASEDIR
fi
# nocheck: the tests are not built (-DGSDK_TESTS=OFF) nor run here (tools/test.sh).
export DEB_BUILD_OPTIONS="$options"
cd "$work/guest-sdk"
log="$out/dpkg-buildpackage.log"
if ! timeout -k 10 3000 dpkg-buildpackage -us -uc -b >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "build-packages: dpkg-buildpackage failed (whole log: $log)" >&2
    exit 1
fi
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
ls "$work"/*.ddeb >/dev/null 2>&1 && mv "$work"/*.ddeb "$out"/
rm -rf "$work/guest-sdk/obj-"*
echo "$stamp" >"$out/stamp"
echo "build-packages: built in $out:"
(cd "$out" && ls -1 ./*.deb)
