"""A network namespace of the test's own on the host (needs root): programs
that must reach the host's stack through a TAP (the switch, a peer of the
guest) run inside it, so nothing a scenario configures touches the host's
own interfaces or routes. Removed at close, with whatever is left in it."""

import os
import subprocess
import uuid

from guest_vm import ScenarioSkipped

COMMAND_TIMEOUT_S = 30


class HostNetns:
    def __init__(self):
        if os.geteuid() != 0:
            raise ScenarioSkipped("a network namespace of the test's own needs root")
        self.name = f"gsdk-vm-{uuid.uuid4().hex[:8]}"
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=COMMAND_TIMEOUT_S)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            # IPv6 would add frames of its own (DAD, router solicitations) at
            # random moments to what the scenarios count.
            self.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                      "net.ipv6.conf.default.disable_ipv6=1"])
        except (OSError, subprocess.SubprocessError):
            self.close()
            raise

    def wrapper(self):
        """Prefix of a command that runs it inside the namespace (network only:
        files, /dev/shm and sockets stay shared with the host)."""
        return ["nsenter", f"--net=/run/netns/{self.name}", "--"]

    def run(self, cmd, timeout=COMMAND_TIMEOUT_S):
        """Runs cmd inside; CalledProcessError (with its output) when it fails."""
        return subprocess.run(["timeout", "-k", "5", str(timeout)] + self.wrapper() + list(cmd),
                              check=True, capture_output=True, text=True, timeout=timeout + 10)

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=COMMAND_TIMEOUT_S)
