"""Host side of the avp-kmod-* scenarios (the AVP kernel driver in a guest):
an avp-switch with ports `a` and `b` paired, whose regions back two
ivshmem-plain devices (a at the lower PCI slot), or two ivshmem-doorbell
devices when the scenario wants interrupts, and the steps the guest asks
for: switch counters, migration, fault injection."""

from avp_switch_host import AvpSwitchHost
from guest_vm import GuestError, StepFailed, serve_steps

PORTS = ("a", "b")
# The ports keep the switch's defaults (4096 buffers): its alloc FIFOs are
# capped at an equal share of the spare buffers, so the idle queues of a
# 4-queue guest cannot starve the one a TCP flow uses.
PORT_KEYS = ""
DEADLINE_S = 90   # boot + scenario took 15-40 s under TCG; ctest's timeout allows a retried boot


def _number(text):
    try:
        return int(text, 0)
    except (TypeError, ValueError):
        return None


class AvpKmodHost:
    """doorbell: the devices are ivshmem-doorbell (MSI-X through the switch's
    ivshmem server) instead of ivshmem-plain; ports/topology/wrapper as for
    AvpSwitchHost."""

    def __init__(self, options, workdir, doorbell=False, ports=PORTS, topology=("--pair", "a,b"), wrapper=()):
        self.ports = tuple(ports)
        self.switch = AvpSwitchHost(options["avp_switch"], workdir, self.ports, list(topology), PORT_KEYS,
                                    doorbell=doorbell, wrapper=wrapper)
        self.vm_settings = {**self.switch.vm_devices(), "deadline_s": DEADLINE_S}

    def _port(self, args, at_least):
        if len(args) < at_least or args[0] not in self.ports:
            raise StepFailed(f"expected a port ({', '.join(self.ports)}) and {at_least - 1} more words, got {args}")
        return args[0]

    def expect(self, args):
        """PORT KEY=VALUE|KEY>=VALUE...: the switch's view of the port (KEY may
        name a nested value: doorbell.queue_signals)."""
        port = self.switch.stats(self._port(args, 2))
        wrong = []
        for cond in args[1:]:
            key, op, want = cond.partition(">=") if ">=" in cond else cond.partition("=")
            have = port
            for part in key.split("."):  # doorbell.queue_signals: a nested one
                have = have.get(part) if isinstance(have, dict) else None
            if op == ">=":
                ok = _number(str(have)) is not None and _number(want) is not None and \
                    _number(str(have)) >= _number(want)
            else:
                ok = str(have) == want or (_number(want) is not None and _number(str(have)) == _number(want))
            if not ok:
                wrong.append(f"{key}={have} (expected {op}{want})")
        if wrong:
            raise StepFailed(f"switch port {args[0]}: " + ", ".join(wrong))
        return " ".join(args[1:])

    def counters(self, args):
        """PORT TX_PACKETS TX_BYTES RX_PACKETS RX_BYTES as the guest's driver
        counted them: the switch counts from its side (its rx is our tx)."""
        name = self._port(args, 5)
        if not all(a.isdigit() for a in args[1:5]):
            raise StepFailed(f"expected four counters, got {args[1:]}")
        g_tx, g_txb, g_rx, g_rxb = (int(a) for a in args[1:5])
        port = self.switch.stats(name)
        want = {"rx_packets": g_tx, "rx_bytes": g_txb, "tx_packets": g_rx, "tx_bytes": g_rxb}
        wrong = [f"{k}={port.get(k)} (guest: {v})" for k, v in want.items() if port.get(k) != v]
        if g_tx == 0 or g_rx == 0:
            wrong.append("the guest counted no traffic on this port")
        if wrong:
            raise StepFailed(f"switch counters of {name} disagree with the driver's: " + ", ".join(wrong))
        return f"{name}: {g_tx} frames/{g_txb} bytes out, {g_rx}/{g_rxb} in, as the switch counted"

    def migrate(self, args):
        """PORT detach|attach: returns once the guest acknowledged."""
        name = self._port(args, 2)
        if args[1] not in ("detach", "attach"):
            raise StepFailed(f"migrate {name}: detach or attach, not {args[1]}")
        reply = self.switch.ctl("migrate", name, args[1], "10000", timeout=30)
        return f"{name} {args[1]}: {reply}"

    def migrate_unacked(self, args):
        """PORT detach|attach TIMEOUT_MS with no driver to answer: the switch
        must report the missing acknowledgement."""
        name = self._port(args, 3)
        try:
            reply = self.switch.ctl("migrate", name, args[1], args[2], timeout=30)
        except StepFailed as e:
            return f"refused as expected: {e}"
        raise StepFailed(f"migrate {name} {args[1]} succeeded without a driver: {reply}")

    def fault(self, args):
        """PORT MODE [COUNT]: the switch injects the hostile-host fault."""
        name = self._port(args, 2)
        self.switch.ctl("fault", name, *args[1:3])
        return f"{name} {args[1]}"

    def device_id(self, args):
        return str(self.switch.stats(self._port(args, 1)).get("device_id"))

    def steps(self):
        return {"expect": self.expect, "counters": self.counters, "migrate": self.migrate,
                "migrate-unacked": self.migrate_unacked, "fault": self.fault, "device-id": self.device_id}

    def drive(self, vm):
        return serve_steps(vm, self.steps())

    def close(self):
        return self.switch.close()


def prepare(options, workdir, doorbell=False):
    if "avp_switch" not in options:
        raise GuestError("host-arg avp_switch=PATH is required")
    return AvpKmodHost(options, workdir, doorbell=doorbell)


def drive(vm, options):
    raise GuestError("the avp-kmod scenarios need prepare(): run them through run_scenario.py")
