#!/usr/bin/env python3
"""Runs one scenario in a fresh QEMU guest: boots the image with
scenario=NAME, runs the host-side driver tests/vm/hosts/NAME.py (if any)
against the guest's chardev sockets, and passes only if the guest reported
PASS (console marker + exit port) and every host-side check held. A boot that
never reached /init is retried once (TCG under load occasionally stalls)."""

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time

# Keep the source tree clean of __pycache__ (the tests run from it).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from guest_vm import DEFAULT_KERNEL_DIR, GuestError, GuestVM, ScenarioSkipped, serve_steps  # noqa: E402

HOSTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "hosts")


def load_driver(scenario):
    path = os.path.join(HOSTS_DIR, scenario.replace("-", "_") + ".py")
    if not os.path.isfile(path):
        return None
    spec = importlib.util.spec_from_file_location(f"host_{scenario.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_once(args, options, driver, workdir):
    # A driver with prepare(options, workdir) starts host programs the VM needs
    # at launch (e.g. the switch whose region file backs the ivshmem device);
    # the object it returns gives GuestVM settings (vm_settings), drives the
    # run (drive(vm)) and stops what it started (close()).
    os.makedirs(workdir, exist_ok=True)
    host = driver.prepare(options, workdir) if driver is not None and hasattr(driver, "prepare") else None
    settings = host.vm_settings if host is not None else {}
    vm = GuestVM(args.image, args.scenario, workdir, **{"kernel_dir": args.kernel_dir,
                                                        "deadline_s": args.deadline, **settings})
    host_failures = []
    try:
        vm.start()
        if host is not None:
            host_failures = host.drive(vm)
        elif driver is not None:
            host_failures = driver.drive(vm, options)
        else:
            host_failures = serve_steps(vm, {})
        vm.wait_exit()
    except (GuestError, OSError) as e:
        host_failures.append(f"{type(e).__name__}: {e}")
    finally:
        vm.close()
        if host is not None:
            host_failures += host.close()
    return vm, host_failures


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--image", required=True, help="initramfs from build_image.py")
    p.add_argument("--scenario", required=True)
    p.add_argument("--kernel-dir", default=DEFAULT_KERNEL_DIR)
    p.add_argument("--deadline", type=float, default=60, help="seconds before QEMU is killed")
    p.add_argument("--workdir", help="where sockets and logs go (default: a temporary dir)")
    p.add_argument("--keep", action="store_true", help="keep the work dir")
    p.add_argument("--host-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="passed to the host-side driver (e.g. vmhostd=PATH)")
    args = p.parse_args()
    options = dict(a.split("=", 1) for a in args.host_arg)
    driver = load_driver(args.scenario)

    base = args.workdir or tempfile.mkdtemp(prefix=f"gsdk-vm-{args.scenario}-")
    started = time.monotonic()
    for attempt in (1, 2):
        workdir = os.path.join(base, f"attempt{attempt}")
        try:
            vm, host_failures = run_once(args, options, driver, workdir)
        except ScenarioSkipped as e:
            print(f"run_scenario: {args.scenario}: SKIP ({e})")
            shutil.rmtree(base, ignore_errors=True)
            return 77
        except (GuestError, OSError) as e:
            print(f"run_scenario: {args.scenario}: FAIL (host side could not be prepared: {e})")
            print(f"run_scenario: logs kept in {base}")
            return 1
        if vm.reached_init() or attempt == 2:
            break
        print(f"run_scenario: the guest never reached /init (attempt {attempt}); retrying once", flush=True)
    passed, reason = vm.verdict()
    elapsed = time.monotonic() - started
    boot = f"{vm.boot_seconds:.1f} s" if vm.boot_seconds is not None else "never"
    print(f"run_scenario: {args.scenario}: boot to /init {boot}, whole run {elapsed:.1f} s, attempts {attempt}")
    for f in host_failures:
        print(f"run_scenario: host-side failure: {f}")
    ok = passed and not host_failures
    print(f"run_scenario: {args.scenario}: {'PASS' if ok else 'FAIL'} ({reason})")
    if ok and not args.keep and not args.workdir:
        shutil.rmtree(base, ignore_errors=True)
    elif not ok:
        print(f"run_scenario: logs kept in {base}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
