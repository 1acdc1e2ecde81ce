"""Host side of scale-bench-in-guest (bench/guest_scale/run_in_guest.sh, not
a ctest test): vCPU scale latency, host request -> response, in the real
QEMU guest, three ways interleaved round after round so that load drift on
the shared machine hits all alike:

  raw   the host asks the guest over the gsdk.control port to write 0/1 to
        cpu3/online itself (a shell `echo`): the sysfs write plus one
        virtio-serial round trip, the floor
  ours  vmhostd -> server-groupd -> guest-scaled: `vmhostctl scale down/up`,
        the elapsed_ms vmhostd measured from request to answer
  ga    QEMU's own agent (qemu-ga in the guest) on org.qemu.guest_agent.0:
        guest-set-vcpus for CPU 3

Prints p50/p99 per variant and direction in ms. No thresholds: figures."""

import json
import os
import socket
import sys
import time

from guest_vm import StepFailed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale_in_guest import Scaler  # noqa: E402

GA_PORT = "org.qemu.guest_agent.0"
WAIT_S = 60
CPU = 3  # the default choice of a scale down with no helper: the highest online


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")


class GuestAgent:
    """A client of qemu-ga's JSON protocol on the port's chardev socket."""

    def __init__(self, path):
        end = time.monotonic() + WAIT_S
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > end:
                    raise StepFailed(f"no chardev socket {path}")
                time.sleep(0.2)
        self.sock.settimeout(WAIT_S)
        self.buf = b""
        # guest-sync with a fresh id: anything stale in the channel is read past.
        token = int(time.time()) & 0x7FFFFFFF
        self.sock.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited",
                                                 "arguments": {"id": token}}).encode())
        while True:
            reply = self.read()
            if reply.get("return") == token:
                break

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise StepFailed("qemu-ga hung up")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        line = line.lstrip(b"\xff").strip()
        return json.loads(line) if line else self.read()

    def call(self, command, arguments):
        self.sock.sendall(json.dumps({"execute": command, "arguments": arguments}).encode())
        reply = self.read()
        if "error" in reply:
            raise StepFailed(f"qemu-ga {command}: {reply['error']}")
        return reply["return"]

    def close(self):
        self.sock.close()


class Bench:
    def __init__(self, options, workdir):
        self.options = options
        self.workdir = workdir
        self.rounds = int(options.get("rounds", "30"))
        self.ga_path = os.path.join(workdir, "ga.sock")
        self.vm_settings = {
            "deadline_s": float(options.get("deadline", "900")),
            "extra_args": ["-chardev", f"socket,id=ga,path={self.ga_path},server=on,wait=off",
                           "-device", f"virtserialport,bus=vs0.0,chardev=ga,name={GA_PORT}"],
        }
        self.samples = {}
        self.scaler = None
        self.agent = None

    def record(self, name, ms):
        self.samples.setdefault(name, []).append(ms)

    def ours(self, direction):
        rc, result, err = self.scaler.scale_json(direction)
        if rc != 0 or not result or result.get("result") != "success":
            raise StepFailed(f"scale {direction}: {rc} {result} {err.strip()}")
        key = "offline_cpu" if direction == "down" else "online_cpu"
        if result.get(key) != CPU:
            raise StepFailed(f"scale {direction} acted on CPU {result.get(key)}, not {CPU}")
        self.record(f"ours {direction}", float(result["elapsed_ms"]))

    def ga(self, online):
        t = time.monotonic()
        done = self.agent.call("guest-set-vcpus", {"vcpus": [{"logical-id": CPU, "online": online}]})
        self.record(f"ga {'up' if online else 'down'}", (time.monotonic() - t) * 1000)
        if done != 1:
            raise StepFailed(f"guest-set-vcpus handled {done} of 1")

    def raw(self, vm, online):
        t = time.monotonic()
        vm.step_done("next", f"raw {CPU} {1 if online else 0}")
        step = vm.next_step(timeout=WAIT_S)
        self.record(f"raw {'up' if online else 'down'}", (time.monotonic() - t) * 1000)
        if step is None or step[0] != "next":
            raise StepFailed(f"the guest did not ask for the next step after the raw write: {step}")
        if step[1] and step[1][0] != "ok":
            raise StepFailed(f"the guest's raw write failed: {step[1]}")

    def drive(self, vm):
        failures = []
        try:
            step = vm.next_step()
            if step is None or step[0] != "next":
                return [f"the guest never asked for its first step: {step}"]
            self.scaler = Scaler(vm, self.options, echo=False)
            self.agent = GuestAgent(self.ga_path)
            variants = [
                ("ours", lambda: (self.ours("down"), self.ours("up"))),
                ("ga", lambda: (self.ga(False), self.ga(True))),
                ("raw", lambda: (self.raw(vm, False), self.raw(vm, True))),
            ]
            # One round first, not counted: the first operation of each path
            # pages in its programs' code under TCG (seen: 370-470 ms).
            for _, run in variants:
                run()
            self.samples.clear()
            for r in range(self.rounds):
                for i in range(len(variants)):
                    variants[(r + i) % len(variants)][1]()
            self.report()
            vm.step_done("next", "done")
        except (StepFailed, OSError, ValueError) as e:
            print(f"HOST CHECK FAIL: bench: {e}", flush=True)
            failures.append(f"bench: {e}")
            try:
                vm.step_failed("next", str(e).replace("\n", " "))
            except OSError:
                pass
        return failures + serve_rest(vm)

    def report(self):
        print(f"guest-scale latency in the QEMU guest (TCG, -smp 4), {self.rounds} interleaved rounds "
              "after one not counted, "
              "host request -> response (ms)", flush=True)
        print(f"{'variant':<12} {'p50':>9} {'p99':>9} {'p50/raw':>8}", flush=True)
        for name in ("raw down", "raw up", "ours down", "ours up", "ga down", "ga up"):
            v = self.samples.get(name, [])
            raw = percentile(self.samples.get("raw " + name.split()[1], []), 0.5)
            p50 = percentile(v, 0.5)
            print(f"{name:<12} {p50:9.1f} {percentile(v, 0.99):9.1f} {p50 / raw:8.2f}", flush=True)
            print("  deciles " + " ".join(f"{percentile(v, d / 10):.0f}" for d in range(1, 10)), flush=True)
        print("target: ours within 1.2x of the raw write; anchor: the reference host allows about 10 s "
              "(timeout_ms 9000)", flush=True)

    def close(self):
        if self.agent:
            self.agent.close()
        if self.scaler:
            self.scaler.close()
        return []


def serve_rest(vm):
    # The guest's "done" step after its scenario.
    step = vm.next_step()
    if step is not None:
        vm.step_done(step[0])
    return []


def prepare(options, workdir):
    return Bench(options, workdir)
