"""Host side of scale-hotplug-in-guest: QEMU gets 2 of 4 vCPUs and a QMP
monitor; vmhostd (qmp executor) hot-adds a vCPU before each scale up."""

import json
import os
import subprocess
import time

from guest_vm import StepFailed, serve_steps
from host_process import HostProcess

VM = "gsdk-vm"
WAIT_S = 60  # generous: TCG on a loaded 2-core host


class HotplugHost:
    def __init__(self, options, workdir):
        for key in ("vmhostd", "vmhostctl"):
            if key not in options:
                raise StepFailed(f"the driver needs --host-arg {key}=PATH")
        self.options = options
        self.workdir = workdir
        self.qmp = os.path.join(workdir, "qmp.sock")
        self.vm_settings = {"smp": "2,maxcpus=4",
                            "extra_args": ["-qmp", f"unix:{self.qmp},server=on,wait=off"]}
        self.vmhostd = None

    def drive(self, vm):
        self.control = os.path.join(self.workdir, "vmhostd.sock")
        config = os.path.join(self.workdir, "vmhostd.json")
        with open(config, "w") as f:
            json.dump({"control_socket": self.control,
                       "vms": [{"name": VM,
                                "heartbeat": "unix:" + vm.socket_path("cgcs.heartbeat"),
                                "messaging": "unix:" + vm.socket_path("cgcs.messaging"),
                                "vcpus": 4, "min_vcpus": 1,
                                "executor": {"type": "qmp", "socket": self.qmp}}]}, f, indent=1)
        self.vmhostd = HostProcess([self.options["vmhostd"], "--config", config, "--log-level", "info"],
                                   os.path.join(self.workdir, "vmhostd.log"), "vmhostd| ")
        return serve_steps(vm, {"hot-add": lambda a: self.scale("up", a[0], True),
                                "scale-down": lambda a: self.scale("down", a[0], False)})

    def scale(self, direction, expect, hot_added):
        argv = [self.options["vmhostctl"], "--socket", self.control, "--json", "scale", VM, "cpu", direction]
        for _ in range(int(WAIT_S / 0.5)):
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                raise StepFailed(f"vmhostctl scale {direction} did not answer in {WAIT_S} s")
            if "not connected" not in out.stderr:
                break
            time.sleep(0.5)
        print(f"vmhostctl scale {direction} -> {out.returncode}: {out.stdout.strip()} {out.stderr.strip()}", flush=True)
        try:
            result = json.loads(out.stdout)
        except ValueError:
            raise StepFailed(f"scale {direction} failed ({out.returncode}): {out.stderr.strip()}")
        key = "online_cpu" if direction == "up" else "offline_cpu"
        if out.returncode != 0 or result.get(key) != int(expect):
            raise StepFailed(f"scale {direction}: {result}, expected {key} {expect}")
        if result.get("hot_added") != hot_added:
            raise StepFailed(f"scale {direction}: hot_added {result.get('hot_added')}, expected {hot_added}")
        return f"{key} {expect}, hot_added {hot_added}, {result.get('elapsed_ms')} ms"

    def close(self):
        if self.vmhostd is not None:
            self.vmhostd.stop()
        return []


def prepare(options, workdir):
    return HotplugHost(options, workdir)
