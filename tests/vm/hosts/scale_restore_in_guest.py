"""Host side of scale-restore-in-guest: builds a real config drive (an ISO
9660 image labelled config-2, made with genisoimage as OpenStack's own
config drives are) whose metadata says CPUs 1 and 2 were offline, attaches
it to the guest as a read-only virtio disk, lets the guest reboot inside the
same QEMU, and tells the guest which boot it is in."""

import json
import os
import subprocess

from guest_vm import StepFailed, serve_steps

ISO_WAIT_S = 60  # genisoimage on a loaded host; a kill deadline, not a target
OFFLINE = "set([1, 2])"  # the legacy form the host writes

# Where the offline set sits on the drive: the EC2-style file or OpenStack's.
LAYOUTS = {
    "ec2": ("ec2/latest/meta-data.json", {"instance-id": "i-00000001", "offline_cpuset": OFFLINE}),
    "openstack": ("openstack/latest/meta_data.json",
                  {"uuid": "2b0e5f1c-0000-4000-8000-000000000001", "name": "gsdk-vm",
                   "meta": {"offline_cpuset": OFFLINE}}),
}


def make_config_drive(workdir, layout):
    name, document = LAYOUTS[layout]
    tree = os.path.join(workdir, "config-drive")
    path = os.path.join(tree, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f)
    iso = os.path.join(workdir, "config-2.iso")
    # Rock Ridge and Joliet keep the lower-case, multi-dot names.
    argv = ["genisoimage", "-quiet", "-o", iso, "-V", "config-2", "-r", "-J", tree]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=ISO_WAIT_S)
    except FileNotFoundError:
        raise OSError("genisoimage is missing: run tools/setup.d/50-guest-scale.sh")
    except subprocess.TimeoutExpired:
        raise OSError(f"genisoimage did not finish in {ISO_WAIT_S} s")
    if out.returncode != 0:
        raise OSError(f"genisoimage failed ({out.returncode}): {out.stderr.strip()}")
    return iso


class ConfigDriveHost:
    layout = "ec2"

    def __init__(self, options, workdir):
        layout = options.get("layout", self.layout)
        if layout not in LAYOUTS:
            raise OSError(f"unknown config drive layout {layout!r} (ec2 or openstack)")
        iso = make_config_drive(workdir, layout)
        self.drive_file = LAYOUTS[layout][0]
        self.vm_settings = {
            "allow_reboot": True,
            "extra_args": ["-drive", f"file={iso},if=virtio,format=raw,readonly=on,media=disk"],
        }

    def boot(self, vm):
        # Which boot this is, and the drive's file the offline set is in.
        return f"{vm.boots()} {self.drive_file}"

    def drive(self, vm):
        return serve_steps(vm, {"boot": lambda args: self.boot(vm)})

    def close(self):
        return []


def prepare(options, workdir):
    return ConfigDriveHost(options, workdir)
