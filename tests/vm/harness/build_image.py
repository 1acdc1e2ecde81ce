#!/usr/bin/env python3
"""Builds the test guest's initramfs: busybox, the guest kernel's virtio
modules, /init, the scenario scripts and our guest binaries with their shared
library closure (copied at the paths ldd names, loader included: Debian has no
static libsystemd, so linking the agents statically is not an option)."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEFAULT_KERNEL_DIR = os.environ.get("GSDK_GUEST_KERNEL_DIR", "/var/cache/gsdk/guest-kernel")
BUSYBOX = "/bin/busybox"
SETUP_HINT = "run tools/setup.d/40-guest-kernel.sh as root (or tools/setup.sh)"
# Every tool the image build runs is killed past this (a loaded machine is slow, not stuck).
COMMAND_TIMEOUT_S = 300


class ImageError(Exception):
    pass


def shared_library_closure(binary):
    """Absolute paths of every shared object `binary` loads, the loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if out.returncode != 0:
        if "not a dynamic executable" in out.stdout + out.stderr:
            return []
        raise ImageError(f"ldd {binary}: {out.stderr.strip()}")
    paths = []
    for line in out.stdout.splitlines():
        if "not found" in line:
            raise ImageError(f"{binary}: a library is missing: {line.strip()}")
        match = re.search(r"(/\S+)\s+\(0x", line)
        if match:
            paths.append(match.group(1))
    return paths


def copy_file(src, root, dest, strip=False):
    """Copies src (symlinks followed) to root/dest, keeping the mode. Debug
    info is stripped on request: a RelWithDebInfo daemon is 5x larger, and the
    guest unpacks its initramfs under TCG."""
    target = os.path.join(root, dest.lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    real = os.path.realpath(src)
    if strip and shutil.which("strip"):
        done = subprocess.run(["strip", "--strip-debug", "-o", target, real], capture_output=True,
                              timeout=COMMAND_TIMEOUT_S)
        if done.returncode == 0:
            shutil.copymode(real, target)
            return
    shutil.copy2(real, target)


def stage(root, kernel_dir, init, scenario_dirs, binaries, files, plugins=()):
    vmlinux = os.path.join(kernel_dir, "vmlinux")
    order_file = os.path.join(kernel_dir, "modules.order")
    if not (os.path.isfile(vmlinux) and os.path.isfile(order_file)):
        raise ImageError(f"no guest kernel in {kernel_dir}: {SETUP_HINT}")
    if not os.path.isfile(BUSYBOX) or shared_library_closure(BUSYBOX):
        raise ImageError(f"{BUSYBOX} is missing or not static (package busybox-static): {SETUP_HINT}")

    for d in ("bin", "dev", "proc", "sys", "tmp", "run", "root", "etc", "opt/gsdk/bin", "opt/gsdk/lib",
              "scenarios"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    copy_file(BUSYBOX, root, "/bin/busybox")
    copy_file(init, root, "/init")
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\n")

    with open(os.path.join(kernel_dir, "version")) as f:
        kver = f.read().strip()
    module_root = f"/lib/modules/{kver}/kernel"
    with open(order_file) as f:
        modules = [m.strip() for m in f if m.strip()]
    for m in modules:
        copy_file(os.path.join(kernel_dir, "modules", m), root, f"{module_root}/{m}")
    copy_file(order_file, root, "/lib/modules/modules.order")
    with open(os.path.join(root, "lib/modules/version"), "w") as f:
        f.write(kver + "\n")

    for d in scenario_dirs:
        for name in sorted(os.listdir(d)):
            if name.endswith(".sh"):
                copy_file(os.path.join(d, name), root, f"/scenarios/{name}")

    libraries = set()
    for spec in binaries:
        # PATH or PATH=NAME (installed as /opt/gsdk/bin/NAME)
        src, _, name = spec.partition("=")
        if not os.path.isfile(src):
            raise ImageError(f"guest binary {src} does not exist (build it first)")
        copy_file(src, root, f"/opt/gsdk/bin/{name or os.path.basename(src)}", strip=True)
        libraries.update(shared_library_closure(src))
    for spec in plugins:
        # Shared objects loaded at run time (DPDK drivers given with EAL -d):
        # ldd of the program cannot see them, so their own closure is added.
        if not os.path.isfile(spec):
            raise ImageError(f"guest plugin {spec} does not exist (build it first)")
        copy_file(spec, root, f"/opt/gsdk/lib/{os.path.basename(spec)}", strip=True)
        libraries.update(shared_library_closure(spec))
    for lib in sorted(libraries):
        copy_file(lib, root, lib, strip=True)

    for spec in files:
        src, _, dest = spec.partition("=")
        if not dest.startswith("/"):
            raise ImageError(f"--file {spec}: give SRC=/ABSOLUTE/DEST")
        copy_file(src, root, dest)


def pack(root, output):
    tmp_out = output + ".tmp"
    names = subprocess.run(["find", "."], cwd=root, capture_output=True, text=True, check=True,
                           timeout=COMMAND_TIMEOUT_S).stdout
    listing = "\n".join(sorted(names.split())) + "\n"
    with open(tmp_out, "wb") as out:
        cpio = subprocess.Popen([BUSYBOX, "cpio", "-o", "-H", "newc"], cwd=root, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        gzip = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=out)
        cpio.stdout.close()
        cpio.stdin.write(listing.encode())
        cpio.stdin.close()
        try:
            failed = cpio.wait(timeout=COMMAND_TIMEOUT_S) != 0 or gzip.wait(timeout=COMMAND_TIMEOUT_S) != 0
        except subprocess.TimeoutExpired:
            for p in (cpio, gzip):
                p.kill()
                p.wait(timeout=10)
            raise ImageError(f"packing the initramfs took over {COMMAND_TIMEOUT_S} s")
        if failed:
            raise ImageError("packing the initramfs failed")
    os.replace(tmp_out, output)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    guest = os.path.join(os.path.dirname(here), "guest")
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--output", required=True, help="the .cpio.gz to write")
    p.add_argument("--kernel-dir", default=DEFAULT_KERNEL_DIR)
    p.add_argument("--init", default=os.path.join(guest, "init"))
    p.add_argument("--scenarios", action="append", default=[],
                   help="directory of NAME.sh scenario scripts (repeatable)")
    p.add_argument("--bin", action="append", default=[], metavar="PATH[=NAME]",
                   help="a guest binary, installed in /opt/gsdk/bin with its libraries")
    p.add_argument("--lib", action="append", default=[], metavar="PATH",
                   help="a shared object loaded at run time (e.g. a DPDK driver), installed in "
                        "/opt/gsdk/lib with its libraries")
    p.add_argument("--file", action="append", default=[], metavar="SRC=/DEST",
                   help="any other file to place in the image")
    args = p.parse_args()
    scenario_dirs = args.scenarios or [os.path.join(guest, "scenarios")]
    try:
        with tempfile.TemporaryDirectory(prefix="gsdk-image-") as root:
            stage(root, args.kernel_dir, args.init, scenario_dirs, args.bin, args.file, args.lib)
            os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
            pack(root, args.output)
    except (ImageError, OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"build_image: {e}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.output)
    print(f"build_image: {args.output} ({size / 1e6:.1f} MB, {len(args.bin)} guest binaries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
