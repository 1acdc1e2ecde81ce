"""Host side of the avp-in-guest scenario: an avp-switch whose ivshmem-profile
region files back the guest's ivshmem-plain devices: port `v` looped back, and
ports `a` and `b` paired (frames are copied between their pools). Checks the
switch's counters of each port against what the guest's driver counted."""

from avp_switch_host import AvpSwitchHost
from guest_vm import GuestError, StepFailed, serve_steps

# In PCI order: QEMU gives the devices ascending slots in command-line order,
# and the guest scenario relies on it (v first, then a, then b).
PORTS = ("v", "a", "b")
GUEST_MEMORY_MB = 1024   # 96 huge pages (192 MB) plus the kernel and the image
DEADLINE_S = 75          # boot + two DPDK runs took 6-10 s; a retried boot (30 s) still fits in 120


class AvpInGuestHost:
    def __init__(self, options, workdir):
        self.switch = AvpSwitchHost(options["avp_switch"], workdir, PORTS,
                                    ["--loopback", "v", "--pair", "a,b"])
        self.vm_settings = {"ivshmem_paths": self.switch.ivshmem_paths(),
                            "memory_mb": GUEST_MEMORY_MB, "deadline_s": DEADLINE_S}

    def check_stats(self, args):
        """args: PORT, the device id the guest's driver read, then its tx
        packets, tx bytes, rx packets, rx bytes on that device."""
        if len(args) != 6 or args[0] not in PORTS or not all(a.isdigit() for a in args[2:]):
            raise StepFailed(f"expected a port name, a device id and four counters from the guest, got {args}")
        name, guest_id = args[0], args[1]
        g_tx, g_txb, g_rx, g_rxb = (int(a) for a in args[2:])
        port = self.switch.stats(name)
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
        return self.switch.close()


def prepare(options, workdir):
    if "avp_switch" not in options:
        raise GuestError("host-arg avp_switch=PATH is required")
    return AvpInGuestHost(options, workdir)


def drive(vm, options):
    raise GuestError("avp-in-guest needs prepare(): run it through run_scenario.py")
