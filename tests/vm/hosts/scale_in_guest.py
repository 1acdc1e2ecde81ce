"""Host side of scale-in-guest: vmhostd reaches the guest's server-groupd
through the cgcs.messaging chardev socket; each step runs
`vmhostctl scale VM cpu DIRECTION` as a user would and checks its answer."""

import json
import os
import subprocess
import time

from guest_vm import StepFailed, serve_steps
from host_process import HostProcess

VM = "gsdk-vm"
WAIT_S = 60  # generous: TCG on a loaded 2-core host


class Scaler:
    def __init__(self, vm, options, echo=True):
        self.echo = echo  # print each vmhostctl call and its answer
        for key in ("vmhostd", "vmhostctl"):
            if key not in options:
                raise StepFailed(f"the driver needs --host-arg {key}=PATH")
        self.vmhostctl = options["vmhostctl"]
        self.control = os.path.join(vm.workdir, "vmhostd.sock")
        config = os.path.join(vm.workdir, "vmhostd.json")
        with open(config, "w") as f:
            json.dump({
                "control_socket": self.control,
                "vms": [{
                    "name": VM,
                    "heartbeat": "unix:" + vm.socket_path("cgcs.heartbeat"),
                    "messaging": "unix:" + vm.socket_path("cgcs.messaging"),
                    "vcpus": 4,
                    "min_vcpus": 1,
                    "executor": {"type": "command", "argv": ["/bin/true"]},
                }],
            }, f, indent=1)
        self.vmhostd = HostProcess([options["vmhostd"], "--config", config, "--log-level", "info"],
                                   os.path.join(vm.workdir, "vmhostd.log"), "vmhostd| ")

    def ctl(self, *args):
        argv = [self.vmhostctl, "--socket", self.control, *args]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            raise StepFailed(f"{' '.join(args)}: vmhostctl did not answer in {WAIT_S} s")
        if self.echo or out.returncode != 0:
            print(f"vmhostctl {' '.join(args)} -> {out.returncode}\n  {out.stdout.strip()} {out.stderr.strip()}",
                  flush=True)
        return out.returncode, out.stdout, out.stderr

    def scale_json(self, direction):
        # The messaging port may still be connecting right after boot.
        end = time.monotonic() + WAIT_S
        while True:
            rc, out, err = self.ctl("--json", "scale", VM, "cpu", direction)
            if "not connected" not in err or time.monotonic() > end:
                break
            time.sleep(0.5)
        try:
            return rc, json.loads(out), err
        except ValueError:
            return rc, None, err

    def scale(self, args):
        direction, expect = args[0], args[1]
        rc, result, err = self.scale_json(direction)
        if rc != 0 or not result or result.get("result") != "success":
            raise StepFailed(f"scale {direction} failed ({rc}): {result} {err.strip()}")
        key = "online_cpu" if direction == "up" else "offline_cpu"
        if expect != "any" and result.get(key) != int(expect):
            raise StepFailed(f"scale {direction}: {key} {result.get(key)}, expected {expect}")
        if not result.get("as_expected"):
            raise StepFailed(f"the guest's online CPUs differ from the host's: {result}")
        if 0 not in result.get("online_cpus", []):
            raise StepFailed(f"CPU 0 went offline: {result}")
        return f"{key} {result.get(key)}, online {result.get('online_cpus')} in {result.get('elapsed_ms')} ms"

    def scale_refused(self, args):
        rc, result, err = self.scale_json(args[0])
        if rc != 2 or "its minimum" not in err:
            raise StepFailed(f"scale {args[0]} at min_vcpus was not refused by the host ({rc}): {err.strip()}")
        return "refused at min_vcpus"

    def close(self):
        self.vmhostd.stop()


def drive(vm, options):
    try:
        host = Scaler(vm, options)
    except StepFailed as e:
        return [str(e)]
    try:
        return serve_steps(vm, {"scale": host.scale, "scale-refused": host.scale_refused})
    finally:
        host.close()
