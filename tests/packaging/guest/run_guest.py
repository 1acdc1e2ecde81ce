#!/usr/bin/env python3
"""The packaged-guest scenario: boots the Debian 12 test guest holding our
packages (prepare_image.sh) under QEMU (TCG) with the cgcs.heartbeat and
cgcs.messaging ports, and answers the guest's steps (scenario.sh) as the
host: the packaged vmhostd supervises the guest and relays its server-group
messages (the VM alone in a group), vmhostctl is asked what a user would ask;
guest-scaled is scaled down and up again with vmhostctl (two vCPUs, at
least one); the ports are unplugged through QMP. Passes only if the guest reported PASS (console marker
and exit port) and every host-side check held."""

import argparse
import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
VM_DIR = os.path.join(HERE, "..", "..", "vm")
sys.path.insert(0, os.path.join(VM_DIR, "harness"))
from guest_vm import DEFAULT_KERNEL_DIR, GuestError, GuestVM, StepFailed, serve_steps  # noqa: E402

SCENARIO = "packaged-guest"
PORTS = ("cgcs.heartbeat", "cgcs.messaging")
GROUP = "packaged"
WAIT_S = 60  # generous: TCG on a loaded 2-core host
VCPUS = 2  # so that guest-scaled has a CPU to take offline and bring back


def load_heartbeat_host():
    """The heartbeat-in-guest host driver: its Supervisor runs vmhostd and vmhostctl."""
    path = os.path.join(VM_DIR, "hosts", "heartbeat_in_guest.py")
    spec = importlib.util.spec_from_file_location("heartbeat_in_guest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class DebianGuest(GuestVM):
    """A GuestVM booting a disk image through the cached initramfs, with ids
    on the virtio-serial ports and a QMP socket to unplug them."""

    def __init__(self, initrd, disk, workdir, **kwargs):
        super().__init__(initrd, SCENARIO, workdir, smp=VCPUS, memory_mb=1024, **kwargs)
        self.disk = disk

    def qmp_path(self):
        return os.path.join(self.workdir, "qmp.sock")

    def command(self):
        cmd = []
        for arg in super().command():
            if arg.startswith("virtserialport,"):
                arg += ",id=port-" + arg.rsplit("name=", 1)[1]
            elif arg.startswith("console=ttyS0"):
                arg += f" gsdk.scenario={SCENARIO}"
            cmd.append(arg)
        return cmd + ["-drive", f"file={self.disk},format=raw,if=virtio,snapshot=on",
                      "-qmp", f"unix:{self.qmp_path()},server=on,wait=off"]


def qmp(path, command, arguments=None, timeout=30):
    """One QMP command on a fresh connection; returns its "return" value."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        stream = s.makefile("rwb")

        def reply():
            while True:
                line = stream.readline()
                if not line:
                    raise StepFailed("QMP closed the connection")
                message = json.loads(line)
                if "return" in message or "error" in message:
                    return message

        stream.readline()  # greeting
        for cmd, args in (("qmp_capabilities", None), (command, arguments)):
            stream.write(json.dumps({"execute": cmd, **({"arguments": args} if args else {})}).encode() + b"\n")
            stream.flush()
            answer = reply()
            if "error" in answer:
                raise StepFailed(f"QMP {cmd}: {answer['error'].get('desc')}")
        return answer["return"]


def add_server_group(config_path, vm):
    """vmhostd's configuration as the heartbeat host writes it, plus the VM's
    messaging socket and a server group holding the VM."""
    with open(config_path) as f:
        config = json.load(f)
    for entry in config["vms"]:
        entry["messaging"] = "unix:" + vm.socket_path("cgcs.messaging")
        entry["vcpus"] = VCPUS
        entry["min_vcpus"] = 1
    config["server_groups"] = [{"name": GROUP, "members": [entry["name"] for entry in config["vms"]]}]
    with open(config_path, "w") as f:
        json.dump(config, f, indent=1)


def host_vm_name(config_path):
    with open(config_path) as f:
        return json.load(f)["vms"][0]["name"]


def drive(vm, options):
    host = load_heartbeat_host().Supervisor(vm, options)
    add_server_group(host.config, vm)

    def expect_interval(args):
        want = int(args[0])
        end = time.monotonic() + WAIT_S
        status = None
        while time.monotonic() < end:
            status = host.vm_status()
            if (status and status.get("interval_ms") == want and status.get("heartbeat") == "active"
                    and status.get("health") == "healthy"):
                return f"vmhostctl shows interval {want} ms, heartbeat active, healthy"
            time.sleep(0.5)
        raise StepFailed(f"vmhostctl never showed interval {want} ms; last: {status}")

    def expect_broadcast(args):
        """vmhostctl shows the VM's broadcasts relayed (broadcasts_in) and its
        messaging socket connected."""
        want = int(args[0])
        end = time.monotonic() + WAIT_S
        member = None
        while time.monotonic() < end:
            rc, text = host.ctl("--json", "group", "show", GROUP)
            if rc == 0:
                members = json.loads(text).get("members", [])
                member = members[0] if members else None
                if (member and member.get("messaging") == "connected"
                        and member.get("counters", {}).get("broadcasts_in") == want):
                    return f"vmhostctl group show {GROUP}: {member['vm']} connected, broadcasts_in {want}"
            time.sleep(0.5)
        raise StepFailed(f"vmhostctl never showed {want} broadcast(s) from the VM in {GROUP}; last: {member}")

    def scale(args):
        """vmhostctl scale VM cpu up|down: the host's request reaches
        guest-scaled through server-groupd; its answer is vmhostctl's."""
        if args not in (["up"], ["down"]):
            raise StepFailed(f"scale needs up or down, got {args}")
        name = host_vm_name(host.config)
        rc, text = host.ctl("scale", name, "cpu", args[0], timeout=120)
        if rc != 0:
            raise StepFailed(f"vmhostctl scale {name} cpu {args[0]}: exit {rc}: {text}")
        return text.replace("\n", " ")

    def unplug_port(args):
        if not args or args[0] not in PORTS:
            raise StepFailed(f"unplug-port needs one of {PORTS}, got {args}")
        qmp(vm.qmp_path(), "device_del", {"id": "port-" + args[0]})
        return f"QMP device_del port-{args[0]}"

    try:
        return serve_steps(vm, {
            "start-host": host.start_host,
            "expect-interval": expect_interval,
            "expect-broadcast": expect_broadcast,
            "scale": scale,
            "unplug-port": unplug_port,
        })
    finally:
        host.close()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--image-dir", required=True, help="prepare_image.sh's work dir (root.ext4, initrd.cpio.gz)")
    p.add_argument("--host-root", required=True, help="where the gsdk-host package is unpacked (vmhostd, vmhostctl)")
    p.add_argument("--kernel-dir", default=DEFAULT_KERNEL_DIR)
    p.add_argument("--deadline", type=float, default=240, help="seconds before QEMU is killed")
    args = p.parse_args()
    options = {"vmhostd": os.path.join(args.host_root, "usr/sbin/vmhostd"),
               "vmhostctl": os.path.join(args.host_root, "usr/bin/vmhostctl")}
    for path in options.values():
        if not os.access(path, os.X_OK):
            print(f"run_guest: FAIL: {path} is not in the unpacked gsdk-host package")
            return 1

    base = tempfile.mkdtemp(prefix=f"gsdk-vm-{SCENARIO}-")
    started = time.monotonic()
    for attempt in (1, 2):
        vm = DebianGuest(os.path.join(args.image_dir, "initrd.cpio.gz"), os.path.join(args.image_dir, "root.ext4"),
                         os.path.join(base, f"attempt{attempt}"), kernel_dir=args.kernel_dir,
                         deadline_s=args.deadline, boot_deadline_s=60)
        failures = []
        try:
            vm.start()
            failures = drive(vm, options)
            vm.wait_exit()
        except (GuestError, OSError, StepFailed) as e:
            failures.append(f"{type(e).__name__}: {e}")
        finally:
            vm.close()
        if vm.reached_init() or attempt == 2:
            break
        print(f"run_guest: the guest never reached its initramfs (attempt {attempt}); retrying once", flush=True)
    passed, reason = vm.verdict()
    print(f"run_guest: {SCENARIO}: whole run {time.monotonic() - started:.1f} s, attempts {attempt}")
    for f in failures:
        print(f"run_guest: host-side failure: {f}")
    ok = passed and not failures
    print(f"run_guest: {SCENARIO}: {'PASS' if ok else 'FAIL'} ({reason})")
    if ok:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"run_guest: logs kept in {base}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
