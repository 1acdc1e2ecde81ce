"""Host side of the avp-kmod TAP scenario: one AVP port `a` and a TAP in the
switch's learning domain. The switch runs in a network namespace of the
test's own, where the TAP gets HOST_ADDR: the guest's AVP netdev talks to a
real host stack and nothing touches the host's own interfaces. The host end
of pings and byte-exact transfers (avp_netcheck, the guest's own traffic
tool built for this machine) runs in that namespace on the guest's request."""

import os
import subprocess
import sys

from avp_kmod_host import AvpKmodHost
from guest_vm import GuestError, StepFailed
from host_netns import HostNetns
from host_process import HostProcess

BUSYBOX = "/bin/busybox"
TAP_IF = "avptap0"
HOST_ADDR = "10.79.0.1"
TAP_MTU = 9000          # the largest the scenario uses; the host lowers its own MTU for the 1500 runs
PEER_DEADLINE_S = 100
UDP_FRAMES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_frames.py")   # a transfer the host takes part in (paced ones included)


class AvpKmodTapHost(AvpKmodHost):
    def __init__(self, options, workdir, doorbell=False):
        if "netcheck" not in options:
            raise GuestError("host-arg netcheck=PATH (avp_netcheck built for the host) is required")
        self.netcheck = options["netcheck"]
        self.workdir = workdir
        self.peers = {}
        self.netns = HostNetns()
        try:
            super().__init__(options, workdir, doorbell=doorbell, ports=("a",),
                             topology=["--tap", f"t,ifname={TAP_IF},mtu={TAP_MTU}"], wrapper=self.netns.wrapper())
            self.netns.run(["ip", "addr", "add", f"{HOST_ADDR}/24", "dev", TAP_IF])
        except BaseException:
            if hasattr(self, "switch"):
                self.switch.close()
            self.netns.close()
            raise
        print(f"HOST TAP {TAP_IF} in namespace {self.netns.name}: {HOST_ADDR}/24, MTU {TAP_MTU}", flush=True)

    def _in_ns(self, cmd, timeout=30):
        try:
            return self.netns.run(cmd, timeout=timeout).stdout.strip()
        except subprocess.CalledProcessError as e:
            raise StepFailed(f"{' '.join(cmd)}: exit {e.returncode}: {(e.stdout + e.stderr).strip()}")

    def tap_mtu(self, args):
        """MTU: the host's side of the TAP."""
        if len(args) != 1 or not args[0].isdigit():
            raise StepFailed(f"tap-mtu MTU, not {args}")
        self._in_ns(["ip", "link", "set", TAP_IF, "mtu", args[0]])
        return f"{TAP_IF} mtu {args[0]}"

    def host_ping(self, args):
        """ADDR SIZE COUNT: from the host's stack (busybox's ping: the guest
        image needs busybox-static anyway, iputils may be missing)."""
        if len(args) != 3:
            raise StepFailed(f"host-ping ADDR SIZE COUNT, not {args}")
        out = self._in_ns([BUSYBOX, "ping", "-c", args[2], "-s", args[1], "-W", "5", args[0]], timeout=60)
        return out.splitlines()[-2] if out else ""

    def udp_frames(self, args):
        """DST_IP PORT COUNT good|bad: raw UDP frames onto the TAP, to the MAC
        the host's stack learned for DST_IP (ping it first)."""
        if len(args) != 4 or not args[1].isdigit() or not args[2].isdigit() or args[3] not in ("good", "bad"):
            raise StepFailed(f"udp-frames DST_IP PORT COUNT good|bad, not {args}")
        neigh = self._in_ns(["ip", "neigh", "show", args[0], "dev", TAP_IF]).split()
        if "lladdr" not in neigh:
            raise StepFailed(f"the host's stack has no MAC for {args[0]}: {' '.join(neigh)}")
        mac = neigh[neigh.index("lladdr") + 1]
        return self._in_ns([sys.executable, UDP_FRAMES, TAP_IF, mac, HOST_ADDR] + args)

    def host_start(self, args):
        """NAME MODE ARGS...: avp_netcheck MODE ARGS in the namespace, in the
        background; a receiver is listening when the step returns."""
        if len(args) < 3 or args[1] not in ("send", "recv", "flood", "sink"):
            raise StepFailed(f"host-start NAME send|recv|flood|sink ARGS..., not {args}")
        name, argv = args[0], args[1:]
        if name in self.peers:
            raise StepFailed(f"a host peer named {name} is running already")
        cmd = ["timeout", "-k", "5", str(PEER_DEADLINE_S)] + self.netns.wrapper() + [self.netcheck] + argv
        peer = HostProcess(cmd, f"{self.workdir}/peer-{name}.log", f"host-{name}| ")
        self.peers[name] = peer
        if argv[0] in ("recv", "sink") and peer.wait_for("^listening", 10) is None:
            raise StepFailed(f"host peer {name} is not listening")
        return " ".join(argv)

    def host_wait(self, args):
        """NAME: waits for the peer to end; fails unless it did what was asked
        (avp_netcheck's exit status: recv all bytes, in order, intact)."""
        if len(args) != 1 or args[0] not in self.peers:
            raise StepFailed(f"host-wait NAME of a started peer, not {args}")
        peer = self.peers.pop(args[0])
        status = peer.wait(PEER_DEADLINE_S + 15)
        if status is None:
            peer.stop()
            raise StepFailed(f"host peer {args[0]} did not finish")
        result = next((line for line in reversed(peer.lines) if line.startswith("result ")), "")
        if status != 0:
            raise StepFailed(f"host peer {args[0]} exited with {status}: {result or 'no result'}")
        return result

    def host_stop(self, args):
        """NAME: ends a peer that runs for a time (flood, sink)."""
        if len(args) != 1 or args[0] not in self.peers:
            raise StepFailed(f"host-stop NAME of a started peer, not {args}")
        self.peers.pop(args[0]).stop()
        return args[0]

    def steps(self):
        return {**super().steps(), "tap-mtu": self.tap_mtu, "host-ping": self.host_ping,
                "udp-frames": self.udp_frames,
                "host-start": self.host_start, "host-wait": self.host_wait, "host-stop": self.host_stop}

    def close(self):
        for peer in self.peers.values():
            peer.stop()
        self.peers.clear()
        failures = super().close()
        self.netns.close()
        return failures


def prepare(options, workdir, doorbell=False):
    if "avp_switch" not in options:
        raise GuestError("host-arg avp_switch=PATH is required")
    return AvpKmodTapHost(options, workdir, doorbell=doorbell)
