"""Host side of heartbeat-in-guest: vmhostd supervises the guest through the
cgcs.heartbeat chardev socket; vmhostctl is asked what a user would ask. The
corrective-action executor is a command that appends "<vm> <action>" to a
marker file, so the test sees exactly what the host carried out."""

import json
import os
import re
import subprocess
import time

from guest_vm import StepFailed, serve_steps
from host_process import HostProcess

VM = "gsdk-vm"
APP = "vnf-a"
APP_ACTION = "stop"  # vnf-a's corrective action (the guest-wide default is reboot)
REJECT_REASON = "active calls"  # what the guest script put in the app's reject-stop flag
WAIT_S = 30  # generous: TCG on a loaded 2-core host


class Supervisor:
    def __init__(self, vm, options):
        for key in ("vmhostd", "vmhostctl"):
            if key not in options:
                raise StepFailed(f"the driver needs --host-arg {key}=PATH")
        self.vmhostd_path = options["vmhostd"]
        self.vmhostctl_path = options["vmhostctl"]
        self.workdir = vm.workdir
        self.marker = os.path.join(vm.workdir, "executed-actions")
        self.control = os.path.join(vm.workdir, "vmhostd.sock")
        self.config = os.path.join(vm.workdir, "vmhostd.json")
        with open(self.config, "w") as f:
            json.dump({
                "control_socket": self.control,
                "vms": [{
                    "name": VM,
                    "heartbeat": "unix:" + vm.socket_path("cgcs.heartbeat"),
                    "executor": {"type": "command",
                                 "argv": ["/bin/sh", "-c", 'echo "$0 $1" >> "$MARKER"'.replace(
                                     "$MARKER", self.marker)]},
                }],
            }, f, indent=1)
        self.vmhostd = None
        self.starts = 0
        self.executed_before = 0

    # --- vmhostd and vmhostctl -------------------------------------------

    def start_vmhostd(self):
        self.starts += 1
        self.vmhostd = HostProcess([self.vmhostd_path, "--config", self.config, "--log-level", "info"],
                                   os.path.join(self.workdir, "vmhostd.log"), f"vmhostd#{self.starts}| ")

    def stop_vmhostd(self):
        if self.vmhostd is not None:
            status = self.vmhostd.stop()
            self.vmhostd = None
            return status
        return None

    def ctl(self, *args, timeout=WAIT_S):
        argv = [self.vmhostctl_path, "--socket", self.control, *args]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StepFailed(f"{' '.join(args)}: vmhostctl did not answer in {timeout} s")
        text = (out.stdout + out.stderr).strip()
        print(f"vmhostctl {' '.join(args)} -> {out.returncode}\n  " + text.replace("\n", "\n  "), flush=True)
        return out.returncode, text

    def vm_status(self):
        """The VM's status as vmhostctl reports it (JSON output)."""
        rc, text = self.ctl("--json", "list")
        if rc != 0:
            return None
        try:
            listing = json.loads(text)
        except ValueError:
            raise StepFailed(f"vmhostctl status --json printed no JSON: {text[:200]!r}")
        vms = listing.get("vms", listing) if isinstance(listing, dict) else listing
        for status in vms:
            if status.get("name") == VM:
                return status
        return None

    def wait_healthy_with_app(self):
        """Polls vmhostctl until the VM is active, healthy and lists the app healthy."""
        end = time.monotonic() + WAIT_S
        status = None
        while time.monotonic() < end:
            status = self.vm_status()
            if status and status.get("heartbeat") == "active" and status.get("health") == "healthy":
                apps = {a.get("name"): a.get("state") for a in status.get("applications", [])}
                if apps.get(APP) == "healthy":
                    return status
            time.sleep(0.5)
        raise StepFailed(f"vmhostctl never showed {VM} active and healthy with {APP} healthy; last: {status}")

    def executed(self):
        try:
            with open(self.marker) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    # --- steps the guest asks for ---------------------------------------

    def start_host(self, args):
        mark = 0
        self.start_vmhostd()
        if not self.vmhostd.wait_for(rf"{VM}: init: ", WAIT_S, mark):
            raise StepFailed("vmhostd never logged the guest's init")
        status = self.wait_healthy_with_app()
        if not self.vmhostd.wait_for(rf"{VM}: applications: .*{APP}", 5, mark):
            raise StepFailed(f"vmhostd never logged {APP} among the applications")
        if status.get("missed", 0) != 0:
            raise StepFailed(f"challenges unanswered: missed={status.get('missed')}")
        return f"{VM} active, healthy, interval {status.get('interval_ms')} ms, {APP} healthy"

    def vote_stop(self, args):
        rc, text = self.ctl("--timeout", str(WAIT_S), "action", VM, "stop")
        if not re.search(r"reject", text, re.I) or APP not in text or REJECT_REASON not in text:
            raise StepFailed(f"vmhostctl action stop did not print a rejection by {APP} ({REJECT_REASON}): {text[:300]!r}")
        if rc != 1:
            raise StepFailed(f"vmhostctl action stop exited {rc}, not 1 (rejected by the guest)")
        if any(action == "stop" for _, action in self.executed()):
            raise StepFailed("the stop was carried out despite the veto")
        return f"stop rejected by {APP}"

    def stop_host(self, args):
        status = self.stop_vmhostd()
        if status != 0:
            raise StepFailed(f"vmhostd exited with {status} on SIGTERM")

    def restart_host(self, args):
        self.start_vmhostd()
        if not self.vmhostd.wait_for(rf"{VM}: init: ", WAIT_S):
            raise StepFailed("the guest never sent init to the restarted vmhostd")
        self.wait_healthy_with_app()
        # The guest kills the application next: only later executions count.
        self.executed_before = len(self.executed())
        return "the guest re-initialised with the restarted vmhostd"

    def expect_corrective_action(self, args):
        end = time.monotonic() + WAIT_S
        while time.monotonic() < end:
            done = self.executed()[self.executed_before:]
            if done:
                break
            time.sleep(0.2)
        else:
            raise StepFailed(f"no corrective action executed within {WAIT_S} s of killing {APP}")
        if [VM, APP_ACTION] not in done:
            raise StepFailed(f"executed {done}, expected [{VM!r}, {APP_ACTION!r}] (the action {APP} registered)")
        if not self.vmhostd.wait_for(rf"{VM}: corrective-action: {APP_ACTION} .*{APP}", 5):
            raise StepFailed("vmhostd did not log the corrective action")
        rc, text = self.ctl("events", VM)
        if "corrective-action" not in text:
            raise StepFailed("vmhostctl events does not list the corrective action")
        return "executed: " + "; ".join(" ".join(e) for e in done)

    def close(self):
        self.stop_vmhostd()


def drive(vm, options):
    try:
        host = Supervisor(vm, options)
    except StepFailed as e:
        return [str(e)]
    try:
        return serve_steps(vm, {
            "start-host": host.start_host,
            "vote-stop": host.vote_stop,
            "stop-host": host.stop_host,
            "restart-host": host.restart_host,
            "expect-corrective-action": host.expect_corrective_action,
        })
    finally:
        host.close()
