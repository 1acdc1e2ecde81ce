"""An avp-switch for a guest scenario: started before QEMU (its ivshmem-profile
region files back the guest's ivshmem devices, one per port, in PCI order),
driven through its control socket, stopped and checked at the end."""

import json
import os
import struct
import subprocess
import time
import uuid

from guest_vm import GuestError, StepFailed
from host_process import HostProcess


REGION_MAGIC = 0x52505641  # "AVPR", avp-model/include/avp/avp_region.h


def region_ready(path):
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and struct.unpack("<I", head)[0] == REGION_MAGIC


def pow2_at_least(n):
    p = 1
    while p < n:
        p <<= 1
    return p


class AvpSwitchHost:
    """ports: port names in PCI order; topology: extra `run` arguments
    (e.g. ["--pair", "a,b"] or ["--tap", "t,ifname=avptap0"]); port_keys:
    extra keys for every --port; doorbell: each port also serves QEMU's
    ivshmem-doorbell on a socket of its own (interrupts); wrapper: what the
    switch runs under (e.g. nsenter into a network namespace for its TAPs)."""

    def __init__(self, switch_bin, workdir, ports, topology, port_keys="", doorbell=False, wrapper=()):
        self.switch_bin = switch_bin
        self.ports = tuple(ports)
        self.socket = os.path.join(workdir, "avp-switch.sock")
        tag = uuid.uuid4().hex[:12]
        self.regions = {p: f"/dev/shm/gsdk-vm-avp-{tag}-{p}" for p in self.ports}
        self.doorbells = {p: os.path.join(workdir, f"doorbell-{p}.sock") if doorbell else None
                          for p in self.ports}
        argv = list(wrapper) + [switch_bin, "run", "--socket", self.socket]
        for p in self.ports:
            bell = f",doorbell={self.doorbells[p]}" if doorbell else ""
            argv += ["--port", f"{p},profile=ivshmem,path={self.regions[p]}{bell}{port_keys}"]
        argv += list(topology)
        self.switch = HostProcess(argv, os.path.join(workdir, "avp-switch.log"), "avp-switch| ")
        # The switch listens before it builds its ports: ready means every
        # region file carries the magic, which the switch stores last, and
        # every doorbell socket exists.
        end = time.monotonic() + 20
        while not (os.path.exists(self.socket) and all(map(region_ready, self.regions.values())) and
                   all(os.path.exists(d) for d in self.doorbells.values() if d)):
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
            print(f"HOST port {p}: region {path}, BAR2 {size} bytes"
                  f"{', doorbell ' + self.doorbells[p] if doorbell else ''}", flush=True)

    def ivshmem_paths(self):
        return [self.regions[p] for p in self.ports]

    def vm_devices(self):
        """GuestVM settings for the ports' devices, in PCI order: region files
        for ivshmem-plain, or the doorbell sockets (QEMU then gets the region
        through the socket)."""
        if any(self.doorbells.values()):
            return {"ivshmem_doorbells": [self.doorbells[p] for p in self.ports]}
        return {"ivshmem_paths": self.ivshmem_paths()}

    def ctl(self, *args, timeout=20):
        out = subprocess.run([self.switch_bin, "ctl", "--socket", self.socket, *args],
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise StepFailed(f"avp-switch ctl {' '.join(args)}: {out.stdout.strip()} {out.stderr.strip()}")
        return json.loads(out.stdout)

    def stats(self, port):
        found = self.ctl("stats", port)["ports"][0]
        print(f"HOST switch stats of {port}: " + json.dumps(found, sort_keys=True), flush=True)
        return found

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
