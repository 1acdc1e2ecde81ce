"""Host side of server-group-in-guest: vmhostd relays server-group messages
between the real guest (its cgcs.messaging chardev socket) and a simulated
VM of the same group: a server-groupd listening on a UNIX socket, as QEMU's
chardev would, with an sg_member beside it. The simulated VM's executor
kills that server-groupd, as a power-off would, so `vmhostctl action sim-vm
stop` stops it for real and the guest's member is told."""

import json
import os
import subprocess
import time

from guest_vm import StepFailed, serve_steps
from host_process import HostProcess

VM = "gsdk-vm"
SIM = "sim-vm"
# The same texts as the guest script: quotes, a backslash, multi-byte UTF-8.
FROM_GUEST = 'from-guest "q" \\ é€'
FROM_SIM = 'from-sim "q" \\ ü😀'
WAIT_S = 60  # generous: TCG on a loaded 2-core host


def wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


class Relay:
    def __init__(self, vm, options):
        for key in ("vmhostd", "vmhostctl", "server_groupd", "sg_member"):
            if key not in options:
                raise StepFailed(f"the driver needs --host-arg {key}=PATH")
        self.options = options
        self.workdir = vm.workdir
        self.sim = os.path.join(vm.workdir, "sim")
        os.makedirs(os.path.join(self.sim, "sg"), exist_ok=True)
        self.control = os.path.join(vm.workdir, "vmhostd.sock")
        self.config = os.path.join(vm.workdir, "vmhostd.json")
        self.executor = os.path.join(vm.workdir, "sim-executor.sh")
        with open(self.executor, "w") as f:
            # "VM ACTION": stop is a power-off of the simulated VM.
            f.write('#!/bin/sh\necho "$1 $2" >> "%s/actions"\n' % self.sim +
                    '[ "$2" = stop ] && kill -KILL "$(cat "%s/server-groupd.pid")"\nexit 0\n' % self.sim)
        os.chmod(self.executor, 0o755)
        with open(os.path.join(self.sim, "sg.conf"), "w") as f:
            # The host's network namespace is shared: leave the abstract names alone.
            f.write("LEGACY_DATAGRAMS=no\n")
        with open(self.config, "w") as f:
            json.dump({
                "control_socket": self.control,
                "vms": [
                    {"name": VM, "heartbeat": "unix:" + vm.socket_path("cgcs.heartbeat"),
                     "messaging": "unix:" + vm.socket_path("cgcs.messaging"),
                     "executor": {"type": "command", "argv": ["/bin/true"]}},
                    # No heartbeat daemon in the simulated VM: vmhostd just keeps trying.
                    {"name": SIM, "heartbeat": "unix:" + os.path.join(self.sim, "hb.sock"),
                     "messaging": "unix:" + os.path.join(self.sim, "msg.sock"),
                     "executor": {"type": "command", "argv": [self.executor]}},
                ],
                "server_groups": [{"name": "pair", "members": [VM, SIM]}],
            }, f, indent=1)
        self.processes = []
        self.sgd = self.member = self.vmhostd = None

    def start(self, argv, name):
        # Stopped (SIGTERM, then SIGKILL) when the driver ends, whatever happened.
        p = HostProcess(argv, os.path.join(self.workdir, name + ".log"), name + "| ")
        self.processes.append(p)
        return p

    def ctl(self, *args):
        argv = ["timeout", "-k", "5", str(WAIT_S), self.options["vmhostctl"], "--socket", self.control, *args]
        out = subprocess.run(argv, capture_output=True, text=True)
        text = (out.stdout + out.stderr).strip()
        print(f"vmhostctl {' '.join(args)} -> {out.returncode}\n  " + text.replace("\n", "\n  "), flush=True)
        return out.returncode, text

    # --- steps the guest asks for ---------------------------------------

    def start_host(self, args):
        self.sgd = self.start([self.options["server_groupd"], "--listen", "unix:" + os.path.join(self.sim, "msg.sock"),
                               "--config", os.path.join(self.sim, "sg.conf"), "--socket-dir",
                               os.path.join(self.sim, "sg"), "--log-level", "info"], "sim-server-groupd")
        if not wait(lambda: os.path.exists(os.path.join(self.sim, "sg", "client.sock")), WAIT_S):
            raise StepFailed("the simulated VM's server-groupd did not start")
        with open(os.path.join(self.sim, "server-groupd.pid"), "w") as f:
            f.write(str(self.sgd.pid()))
        self.vmhostd = self.start([self.options["vmhostd"], "--config", self.config, "--log-level", "info"],
                                  "vmhostd")
        self.member = self.start([self.options["sg_member"], "--socket", os.path.join(self.sim, "sg", "client.sock"),
                                  "--send", FROM_SIM, "--expect", FROM_GUEST], "sim-member")
        if not self.member.wait_for(r"^link up", WAIT_S):
            raise StepFailed("the simulated VM's member never connected to its server-groupd")
        return "vmhostd, the simulated VM and its member run"

    def expect_guest_broadcast(self, args):
        if not self.member.wait_for(rf"^expected {VM}$", WAIT_S):
            raise StepFailed("the guest's broadcast never reached the simulated VM byte for byte")
        rc, text = self.ctl("--json", "group", "show", "pair")
        counters = {m["vm"]: m["counters"] for m in json.loads(text)["members"]} if rc == 0 else {}
        if counters.get(VM, {}).get("broadcasts_in", 0) < 1 or counters.get(SIM, {}).get("broadcasts_in", 0) < 1:
            raise StepFailed(f"vmhostctl group show does not count both members' broadcasts: {counters}")
        return "the guest's broadcast arrived; both counted by vmhostd"

    def stop_sim(self, args):
        rc, text = self.ctl("action", SIM, "stop")
        if rc != 0:
            raise StepFailed(f"vmhostctl action {SIM} stop exited {rc}: {text[:200]}")
        if not wait(lambda: not self.sgd.running(), WAIT_S):
            raise StepFailed("the simulated VM's server-groupd still runs after the stop")
        return f"{SIM} stopped"

    def close(self):
        for p in reversed(self.processes):
            if p.running():
                p.stop()


def drive(vm, options):
    try:
        relay = Relay(vm, options)
    except StepFailed as e:
        return [str(e)]
    try:
        return serve_steps(vm, {
            "start-host": relay.start_host,
            "expect-guest-broadcast": relay.expect_guest_broadcast,
            "stop-sim": relay.stop_sim,
        })
    finally:
        relay.close()
