#!/usr/bin/env python3
"""bench/avp_kmod: throughput and packet rate of the AVP kernel driver beside
virtio-net, in one TCG guest, rounds interleaved (figures, not a test).

Two AVP netdevs are paired by avp-switch on the host; two virtio-net NICs are
joined on the host by a bridge of two taps in a private network namespace
(when run as root), or else by QEMU's socket backend. In the guest one NIC of
each pair sits in a namespace of its own, so every frame crosses the host.
Prints each round and the median ratio AVP / virtio-net. With --alt-ko a
second build of avp_net.ko (e.g. the one before a change) is measured in the
same rounds, reloaded in place of the first: before/after figures that share
the machine's state."""

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tests/vm/harness"))
from avp_switch_host import AvpSwitchHost  # noqa: E402
from guest_vm import GuestVM, serve_steps  # noqa: E402

BENCH = re.compile(r"BENCH transport=([\w-]+) metric=(\w+) value=([0-9.]+)")
CLOCK_TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def ratio_interval(num, den, draws=2000):
    """Median of the per-round ratios num/den (each pair measured in the
    same round) and a 90% percentile-bootstrap interval for it: whether a
    difference is larger than what the machine's drift between rounds
    makes of it."""
    ratios = [x / y for x, y in zip(num, den) if y]
    if len(ratios) < 3:
        return None
    rng = random.Random(1)  # the same rounds give the same interval
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return statistics.median(ratios), meds[int(0.05 * draws)], meds[int(0.95 * draws) - 1]


def print_interval(label, num, den):
    """The per-round ratio num/den and its interval, when there are rounds enough."""
    paired = ratio_interval(num, den)
    if paired:
        print(f"    per-round ratio {label}: median {paired[0]:.2f}, "
              f"90% interval {paired[1]:.2f}-{paired[2]:.2f} ({len(num)} rounds)")


def cpu_us(pid):
    """CPU time (user and system, all threads, ended ones included) a
    process has used so far, in microseconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return round((int(fields[11]) + int(fields[12])) * CLOCK_TICK_US)  # utime, stime


class TapBridge:
    """Two taps on a bridge inside a network namespace of our own; QEMU runs
    inside it to open them. Needs root."""

    def __init__(self):
        self.ns = f"gsdk-bench-{uuid.uuid4().hex[:8]}"
        self.taps = ("gsdkt0", "gsdkt1")
        run = ["ip", "netns", "exec", self.ns, "ip"]
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        try:
            subprocess.run(run + ["link", "add", "br0", "type", "bridge"], check=True)
            for t in self.taps:
                subprocess.run(run + ["tuntap", "add", t, "mode", "tap"], check=True)
                subprocess.run(run + ["link", "set", t, "master", "br0", "up"], check=True)
            subprocess.run(run + ["link", "set", "br0", "up"], check=True)
        except (OSError, subprocess.CalledProcessError):
            self.close()
            raise

    def qemu_args(self):
        args = []
        for i, t in enumerate(self.taps):
            args += ["-netdev", f"tap,id=vn{i},ifname={t},script=no,downscript=no",
                     "-device", f"virtio-net-pci,netdev=vn{i}"]
        return args

    def wrap(self, cmd):
        return ["ip", "netns", "exec", self.ns] + cmd

    def close(self):
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


class HugeRegions:
    """A hugetlbfs of the bench's own for the switch's regions, as an AVP host
    backs them where it can (QEMU backs the guest's RAM with transparent huge
    pages: the virtio-net side has them already). Raises the count of free
    2 MiB pages to what the regions need and restores it at close. Needs root."""

    PAGES = 32  # two 16 MiB regions, with room to spare

    def __init__(self, work):
        self.dir = os.path.join(work, "hugetlbfs")
        self.nr_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
        self.nr_before = None
        self.mounted = False
        with open("/proc/meminfo") as f:
            free = int(re.search(r"HugePages_Free:\s+(\d+)", f.read()).group(1))
        if free < self.PAGES:
            with open(self.nr_path) as f:
                self.nr_before = int(f.read())
            with open(self.nr_path, "w") as f:
                f.write(str(self.nr_before + self.PAGES - free))
        os.makedirs(self.dir, exist_ok=True)
        subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", self.dir], check=True)
        self.mounted = True

    def switch_args(self):
        return ["--hugetlbfs", self.dir]

    def close(self):
        if self.mounted:
            subprocess.run(["umount", self.dir], capture_output=True)
            self.mounted = False
        if self.nr_before is not None:
            with open(self.nr_path, "w") as f:
                f.write(str(self.nr_before))
            self.nr_before = None


class SocketPair:
    """QEMU's socket backend: one NIC listens on a loopback port, the other
    connects to it (QEMU forwards frames over that TCP connection)."""

    def __init__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()

    def qemu_args(self):
        return ["-netdev", f"socket,id=vn0,listen=127.0.0.1:{self.port}",
                "-device", "virtio-net-pci,netdev=vn0",
                "-netdev", f"socket,id=vn1,connect=127.0.0.1:{self.port}",
                "-device", "virtio-net-pci,netdev=vn1"]

    def wrap(self, cmd):
        return cmd

    def close(self):
        pass


class BenchVM(GuestVM):
    def __init__(self, *a, backend, rounds, alt, tcp_mb, **kw):
        super().__init__(*a, **kw)
        self.backend = backend
        self.rounds = rounds
        self.tcp_mb = tcp_mb
        self.alt = alt

    def command(self):
        cmd = super().command()
        i = cmd.index("-append")
        cmd[i + 1] += f" bench_rounds={self.rounds} bench_tcp_mb={self.tcp_mb}" + (" bench_alt=1" if self.alt else "")
        exit_dev = cmd.index("isa-debug-exit,iobase=0xf4,iosize=0x04") - 1
        cmd[exit_dev:exit_dev] = self.backend.qemu_args()
        return self.backend.wrap(cmd)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("build", help="the project's build directory")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tcp-mb", type=int, default=100, metavar="MB",
                   help="megabytes each TCP stream carries (default 100: a few seconds, past slow start)")
    p.add_argument("--backend", choices=("auto", "tap", "socket"), default="auto")
    p.add_argument("--switch-arg", action="append", default=[], metavar="ARG",
                   help="an extra `avp-switch run` argument (e.g. --busy-poll)")
    p.add_argument("--region-pages", choices=("huge", "ordinary"), default="huge",
                   help="back the switch's regions with 2 MiB hugepages (default, needs root) or 4 KiB pages")
    p.add_argument("--no-doorbell", action="store_true",
                   help="AVP devices as ivshmem-plain (timer-polled) instead of ivshmem-doorbell (interrupts)")
    p.add_argument("--alt-ko", metavar="KO",
                   help="another avp_net.ko measured in the same rounds (transport avp-alt)")
    args = p.parse_args()
    build = os.path.abspath(args.build)
    ko = os.path.join(build, "avp-kmod/kbuild/avp-kmod/avp_net.ko")
    netcheck = os.path.join(build, "tests/vm/vm_avp_netcheck")
    switch_bin = os.path.join(build, "host/avp-switch/avp-switch")
    ethtool = shutil.which("ethtool") or "/usr/sbin/ethtool"
    for f in (ko, netcheck, switch_bin, ethtool) + ((args.alt_ko,) if args.alt_ko else ()):
        if not os.path.exists(f):
            sys.exit(f"bench/avp_kmod: {f} is missing (build targets avp_net_ko, vm_avp_netcheck, avp-switch)")

    work = tempfile.mkdtemp(prefix="gsdk-bench-avp-kmod-")
    image = os.path.join(work, "image.cpio.gz")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/vm/harness/build_image.py"), "--output", image,
                    "--scenarios", os.path.join(ROOT, "tests/vm/guest/scenarios"),
                    "--scenarios", os.path.join(HERE, "guest"),
                    "--bin", f"{netcheck}=avp_netcheck", "--bin", ethtool,
                    "--file", f"{ko}=/opt/gsdk/modules/avp_net.ko"]
                   + (["--file", f"{os.path.abspath(args.alt_ko)}=/opt/gsdk/modules/avp_net_alt.ko"]
                      if args.alt_ko else []), check=True)

    backend = None
    if args.backend in ("auto", "tap") and os.geteuid() == 0:
        try:
            backend = TapBridge()
        except (OSError, subprocess.CalledProcessError) as e:
            if args.backend == "tap":
                sys.exit(f"bench/avp_kmod: cannot make the tap bridge: {e}")
    if backend is None:
        backend = SocketPair()
    name = "tap bridge" if isinstance(backend, TapBridge) else "socket backend"
    huge = None
    if args.region_pages == "huge":
        try:
            huge = HugeRegions(work)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"bench/avp_kmod: no hugetlbfs of our own ({e}): the regions go on ordinary pages")
    try:
        switch = AvpSwitchHost(switch_bin, work, ("a", "b"),
                               ["--pair", "a,b"] + (huge.switch_args() if huge else []) + args.switch_arg,
                               doorbell=not args.no_doorbell,
                               port_keys=",hugepages=on" if huge else ",hugepages=off")
    except Exception:
        backend.close()
        if huge:
            huge.close()
        raise
    vm = BenchVM(image, "avp-kmod-bench", work, **switch.vm_devices(),
                 # each stream at no less than 40 Mbit/s
                 deadline_s=60 + ((140 if args.alt_ko else 90) + (3 if args.alt_ko else 2) * args.tcp_mb // 5)
                 * args.rounds,
                 backend=backend, rounds=args.rounds, alt=bool(args.alt_ko), tcp_mb=args.tcp_mb,
                 log_prefix="guest| " if os.environ.get("BENCH_VERBOSE") else "")
    results = {}
    try:
        vm.start()
        # the guest's "cpu" step: what QEMU and the switch have used so far,
        # so that each stream's host CPU per megabyte can be told
        serve_steps(vm, {"cpu": lambda _args: f"{cpu_us(vm.pid)} {cpu_us(switch.switch.pid())}"})
        vm.wait_exit()
    finally:
        vm.close()
        switch.close()
        backend.close()
        if huge:
            huge.close()
    for line in vm.console:
        m = BENCH.search(line)
        if m:
            results.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)))
    passed, why = vm.verdict()
    if not passed:
        sys.exit(f"bench/avp_kmod: the guest run failed ({why}); console in {work}/console.log")

    irq = "polled ivshmem-plain" if args.no_doorbell else "ivshmem-doorbell interrupts"
    print(f"AVP kernel driver ({irq}, regions on {'2 MiB huge' if huge else 'ordinary'} pages) vs virtio-net "
          f"({name}), one TCG guest (-smp 4), {args.rounds} interleaved rounds; load {os.getloadavg()[0]:.1f}")
    if args.alt_ko:
        print(f"  avp = {ko}\n  avp-alt = {os.path.abspath(args.alt_ko)}")
    for metric, unit in (("tcp_mbit", "Mbit/s, one TCP stream, MTU 1500"),
                         ("tcp_host_cpu_us_per_mb", "host CPU us per MB of the TCP stream (QEMU and avp-switch)"),
                         ("udp64_rx_pps", "frames/s received, 64-byte UDP frames")):
        avp = results.get(("avp", metric), [])
        alt = results.get(("avp-alt", metric), [])
        vio = results.get(("virtio", metric), [])
        if not avp or not vio or (args.alt_ko and not alt):
            print(f"  {metric}: missing results")
            continue
        a, v = statistics.median(avp), statistics.median(vio)
        rounds = ", ".join(f"{x:.0f}/{y:.0f}" for x, y in zip(avp, vio))
        print(f"  {unit}: avp {a:.0f}, virtio-net {v:.0f}, ratio {a / v:.2f}  (rounds avp/virtio: {rounds})")
        print_interval("avp / virtio-net", avp, vio)
        if alt:
            b = statistics.median(alt)
            rounds = ", ".join(f"{x:.0f}/{y:.0f}" for x, y in zip(alt, vio))
            print(f"  {unit}: avp-alt {b:.0f}, ratio to virtio-net {b / v:.2f}, avp / avp-alt {a / b:.2f}"
                  f"  (rounds avp-alt/virtio: {rounds})")
            print_interval("avp / avp-alt", avp, alt)
        if metric == "tcp_host_cpu_us_per_mb":
            # the switch's share: what AVP spends outside QEMU
            for t in ("avp", "avp-alt"):
                share = results.get((t, "tcp_switch_cpu_us_per_mb"), [])
                if share:
                    print(f"    of which avp-switch, {t}: {statistics.median(share):.0f} "
                          f"(rounds: {', '.join(f'{x:.0f}' for x in share)})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
