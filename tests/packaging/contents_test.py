#!/usr/bin/env python3
"""contents_test.py PKG_DIR MANIFEST: every package in the manifest was built
and carries what the manifest says, and nothing else (directories and
/usr/share/doc/PACKAGE/ aside); every built package is in the manifest."""

import fnmatch
import glob
import os
import subprocess
import sys


def run(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


def main():
    pkg_dir, manifest = sys.argv[1], sys.argv[2]
    arch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).strip()
    pmds = [os.path.basename(d) for d in glob.glob(f"/usr/lib/{arch}/dpdk/pmds-*")]
    expected = {}
    with open(manifest) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            package, pattern = line.split()
            pattern = pattern.replace("{ARCH}", arch).replace("{PMDS}", pmds[0] if pmds else "pmds-*")
            expected.setdefault(package, []).append((pattern, n))

    debs = {}
    for deb in glob.glob(os.path.join(pkg_dir, "*.deb")):
        debs[run(["dpkg-deb", "--field", deb, "Package"]).strip()] = deb
    failures = []
    debs = {p: d for p, d in debs.items() if not p.endswith("-dbgsym")}  # debug symbols: dh_strip
    for package in sorted(set(debs) - set(expected)):
        failures.append(f"{package}: built but not in {manifest}")
    for package, patterns in sorted(expected.items()):
        deb = debs.get(package)
        if deb is None:
            failures.append(f"{package}: in the manifest but not built")
            continue
        files = []
        for entry in run(["dpkg-deb", "-c", deb]).splitlines():
            fields = entry.split(None, 5)
            path = fields[5].split(" -> ")[0].removeprefix("./")
            if fields[0].startswith("d"):
                continue
            files.append(path)
        for pattern, n in patterns:
            if not any(fnmatch.fnmatchcase(path, pattern) for path in files):
                failures.append(f"{package}: nothing matches {pattern} (manifest line {n})")
        own_doc = f"usr/share/doc/{package}/"
        for path in files:
            if path in (own_doc + "copyright", own_doc + "changelog.gz"):
                continue
            if not any(fnmatch.fnmatchcase(path, pattern) for pattern, _ in patterns):
                failures.append(f"{package}: carries {path}, which the manifest does not list")
        print(f"{package}: {len(files)} files")
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print(f"PASS: {len(expected)} packages carry what {os.path.basename(manifest)} lists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
