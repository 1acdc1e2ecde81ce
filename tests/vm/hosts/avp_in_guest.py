"""Host side of the avp-in-guest scenario: an avp-switch whose ivshmem-profile
region files back the guest's ivshmem-plain devices: port `v` looped back, and
ports `a` and `b` paired (frames are copied between their pools). Checks the
switch's counters of each port against what the guest's driver counted."""

import json
import os
import subprocess
import time
import uuid

from guest_vm import GuestError, StepFailed, serve_steps
from host_process import HostProcess

# In PCI order: QEMU gives the devices ascending slots in command-line order,
# and the guest scenario relies on it (v first, then a, then b).
PORTS = ("v", "a", "b")
GUEST_MEMORY_MB = 1024   # 96 huge pages (192 MB) plus the kernel and the image
DEADLINE_S = 75          # boot + two DPDK runs took 6-10 s; a retried boot (30 s) still fits in 120


def pow2_at_least(n):
    p = 1
    while p < n:
        p <<= 1
    return p


class AvpSwitchHost:
    def __init__(self, options, workdir):
        self.switch_bin = options["avp_switch"]
        self.socket = os.path.join(workdir, "avp-switch.sock")
        tag = uuid.uuid4().hex[:12]
        self.regions = {p: f"/dev/shm/gsdk-vm-avp-{tag}-{p}" for p in PORTS}
        argv = [self.switch_bin, "run", "--socket", self.socket]
        for p in PORTS:
            argv += ["--port", f"{p},profile=ivshmem,path={self.regions[p]}"]
        argv += ["--loopback", "v", "--pair", "a,b"]
        self.switch = HostProcess(argv, os.path.join(workdir, "avp-switch.log"), "avp-switch| ")
        end = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if not self.switch.running() or time.monotonic() > end:
                self.close()
                raise GuestError("avp-switch did not come up (see avp-switch.log)")
            time.sleep(0.05)
        # QEMU maps a backing file as BAR2, whose size is a power of two: the
        # switch pads ivshmem region files to one, and the file goes to QEMU as it is.
        for p, path in self.regions.items():
            size = os.path.getsize(path)
            if size != pow2_at_least(size):
                self.close()
                raise GuestError(f"avp-switch made {path} {size} bytes, not a power of two")
            print(f"HOST port {p}: region {path}, BAR2 {size} bytes", flush=True)
        self.vm_settings = {"ivshmem_paths": [self.regions[p] for p in PORTS],
                            "memory_mb": GUEST_MEMORY_MB, "deadline_s": DEADLINE_S}

    def ctl(self, *args):
        out = subprocess.run([self.switch_bin, "ctl", "--socket", self.socket, *args],
                             capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise StepFailed(f"avp-switch ctl {' '.join(args)}: {out.stdout.strip()} {out.stderr.strip()}")
        return json.loads(out.stdout)

    def check_stats(self, args):
        """args: PORT, the device id the guest's driver read, then its tx
        packets, tx bytes, rx packets, rx bytes on that device."""
        if len(args) != 6 or args[0] not in PORTS or not all(a.isdigit() for a in args[2:]):
            raise StepFailed(f"expected a port name, a device id and four counters from the guest, got {args}")
        name, guest_id = args[0], args[1]
        g_tx, g_txb, g_rx, g_rxb = (int(a) for a in args[2:])
        port = self.ctl("stats", name)["ports"][0]
        print(f"HOST switch stats of {name}: " + json.dumps(port, sort_keys=True), flush=True)
        # The PCI order is assumed by the guest: the device id proves it.
        try:
            same_device = int(guest_id, 16) == int(port.get("device_id", ""), 16)
        except ValueError:
            same_device = False
        if not same_device:
            raise StepFailed(f"the guest's device reads device id {guest_id}, port {name} has "
                             f"{port.get('device_id')}: not the same device")
        # The switch counts from its side, like a NIC: its rx is the guest's tx.
        want = {"rx_packets": g_tx, "rx_bytes": g_txb, "tx_packets": g_rx, "tx_bytes": g_rxb,
                "rx_errors": 0, "rx_drops": 0, "free_errors": 0, "ctl_errors": 0,
                # the guest said it is DPDK (driver type 1) and shut the device down on close
                "driver_type": 1, "guest_state": "shutdown"}
        wrong = [f"{k}={port.get(k)} (expected {v})" for k, v in want.items() if port.get(k) != v]
        if g_tx + g_rx == 0:
            wrong.append("the guest moved nothing on this port")
        if wrong:
            raise StepFailed(f"switch counters of {name} disagree: " + ", ".join(wrong))
        return f"{name} (device {guest_id}): switch rx {g_tx} frames/{g_txb} bytes, tx {g_rx}/{g_rxb}, no errors"

    def drive(self, vm):
        return serve_steps(vm, {"check-stats": self.check_stats})

    def close(self):
        """Stops the switch (it removes its region files); returns failures."""
        status = self.switch.stop()
        failures = []
        if status != 0:
            failures.append(f"avp-switch exited with {status}, not 0 after SIGTERM")
        for path in self.regions.values():
            if os.path.exists(path):
                os.unlink(path)
                failures.append(f"avp-switch left its region file {path}")
        return failures


def prepare(options, workdir):
    if "avp_switch" not in options:
        raise GuestError("host-arg avp_switch=PATH is required")
    return AvpSwitchHost(options, workdir)


def drive(vm, options):
    raise GuestError("avp-in-guest needs prepare(): run it through run_scenario.py")
