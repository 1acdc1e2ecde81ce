#!/usr/bin/env python3
"""Server-group broadcast benchmark: the host relay (vmhostd + N
server-groupds, simulated VMs) beside corosync's CPG on one node, measured
in the same run and interleaved in rounds (cross-core latency on these
machines flips between two states, so neither side gets the better one).

Figures: broadcasts/s delivered to every other member (3050-byte payloads,
64 in flight) and one-way latency p50/p99 (one in flight), for groups of 4
and 16 members. Target: the relay at least half of CPG's rate.

Run by hand as root (corosync and its clients run in a network namespace of
their own, so a system corosync or another run cannot meet them):
    bench/server_group/run.py [--build build] [--rounds 3] [--baseline OTHER_BUILD]
--baseline adds a third system, "before": the relay of another build (say,
of the commit a change started from), interleaved with the other two so
that a before/after comparison sees the same machine.
Needs corosync and libcpg-dev (tools/setup.d/60-server-group-bench.sh).
Every program runs under `timeout -k`.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COROSYNC_CONF = """totem {{
    version: 2
    cluster_name: gsdk-bench
    transport: knet
    crypto_cipher: none
    crypto_hash: none
}}
nodelist {{
    node {{
        ring0_addr: 127.0.0.1
        name: bench
        nodeid: 1
    }}
}}
logging {{
    to_stderr: yes
    to_syslog: no
    to_logfile: no
}}
system {{
    state_dir: {state}
}}
"""


def in_own_network():
    """Re-runs this script in a network namespace of its own (once)."""
    if os.environ.get("GSDK_BENCH_NETNS") == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    if os.geteuid() != 0:
        sys.exit("run.py: needs root (corosync runs in a network namespace of its own)")
    env = dict(os.environ, GSDK_BENCH_NETNS="1")
    os.execvpe("unshare", ["unshare", "--net", "--", sys.executable, *sys.argv], env)


def run(argv, deadline_s):
    """Runs one measurement program; returns its JSON line or None."""
    out = subprocess.run(["timeout", "-k", "5", str(deadline_s), *argv], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        try:
            return json.loads(line)
        except ValueError:
            pass
    sys.stderr.write(f"{os.path.basename(argv[0])} failed ({out.returncode}): {out.stderr.strip()[-400:]}\n")
    return None


class Corosync:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "corosync")
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "corosync.conf")
        with open(self.conf, "w") as f:
            f.write(COROSYNC_CONF.format(state=self.dir))
        self.log = open(os.path.join(self.dir, "corosync.log"), "w")
        # The kill deadline covers the longest run we allow.
        self.proc = subprocess.Popen(["timeout", "-k", "5", "3600", "corosync", "-f", "-c", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, cpg_bench):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            probe = subprocess.run(["timeout", "-k", "2", "10", cpg_bench, "--members", "2", "--messages", "10"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                return
            time.sleep(0.5)
        self.stop()
        sys.exit("run.py: corosync did not come up; its log:\n" + open(self.log.name).read()[-2000:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--members", default="4,16")
    p.add_argument("--messages", type=int, default=10000, help="broadcasts per throughput measurement")
    p.add_argument("--latency-messages", type=int, default=2000, help="broadcasts per latency measurement")
    p.add_argument("--baseline", help="another build directory whose relay runs beside, as system \"before\"")
    args = p.parse_args()
    bench_dir = os.path.join(args.build, "bench", "server_group")
    relay, cpg = os.path.join(bench_dir, "sg_relay_bench"), os.path.join(bench_dir, "sg_cpg_bench")
    before = os.path.join(args.baseline, "bench", "server_group", "sg_relay_bench") if args.baseline else None
    for prog in (relay, cpg) + ((before,) if before else ()):
        if not os.access(prog, os.X_OK):
            sys.exit(f"run.py: {prog} missing: ninja -C {args.build} sg_relay_bench sg_cpg_bench")
    if not shutil.which("corosync"):
        sys.exit("run.py: corosync missing: tools/setup.d/60-server-group-bench.sh")
    in_own_network()

    workdir = tempfile.mkdtemp(prefix="gsdk-sg-bench-")
    corosync = Corosync(workdir)
    results = []
    try:
        corosync.wait_ready(cpg)
        sizes = [int(n) for n in args.members.split(",")]
        for rnd in range(args.rounds):
            # Alternate who goes first in each pair.
            systems = [("cpg", cpg), ("relay", relay)] + ([("before", before)] if before else [])
            # Rotate who goes first, round by round.
            systems = systems[rnd % len(systems):] + systems[:rnd % len(systems)]
            for members in sizes:
                for mode, window, messages in (("throughput", 64, args.messages),
                                               ("latency", 1, args.latency_messages)):
                    for name, prog in systems:
                        r = run([prog, "--members", str(members), "--messages", str(messages), "--window",
                                 str(window), "--size", "3050", "--mode", mode], 300)
                        if r:
                            r["system"] = name  # the baseline's relay calls itself "relay" too
                            r["round"] = rnd + 1
                            results.append(r)
                            print(f"round {rnd + 1}  {name:6}  {members:2} members  {mode:10}  "
                                  f"{r['rate']:>8.0f} msg/s  p50 {r['p50_us']:>8.1f} us  p99 {r['p99_us']:>9.1f} us"
                                  f"{'' if r['complete'] else '  INCOMPLETE'}", flush=True)
    finally:
        corosync.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    summarize(results, sizes, bool(before))


def summarize(results, sizes, with_before):
    def med(system, members, mode, key):
        values = [r[key] for r in results
                  if r["system"] == system and r["members"] == members and r["mode"] == mode and r["complete"]]
        return statistics.median(values) if values else float("nan")

    print("\nmedians over the rounds (3050-byte payloads; throughput: 64 in flight; latency: 1 in flight)")
    print(f"{'members':>7}  {'relay msg/s':>11}  {'CPG msg/s':>10}  {'relay/CPG':>9}  {'target':>6}  "
          f"{'relay p50/p99 us':>18}  {'CPG p50/p99 us':>16}")
    for members in sizes:
        relay_rate, cpg_rate = med("relay", members, "throughput", "rate"), med("cpg", members, "throughput", "rate")
        ratio = relay_rate / cpg_rate if cpg_rate else float("nan")
        lat = {s: (med(s, members, "latency", "p50_us"), med(s, members, "latency", "p99_us")) for s in ("relay", "cpg")}
        print(f"{members:>7}  {relay_rate:>11.0f}  {cpg_rate:>10.0f}  {ratio:>9.2f}  "
              f"{'met' if ratio >= 0.5 else 'MISSED':>6}  {lat['relay'][0]:>8.0f} / {lat['relay'][1]:<7.0f}  "
              f"{lat['cpg'][0]:>6.0f} / {lat['cpg'][1]:<7.0f}")
    if not with_before:
        return
    print("\nthe relay beside the baseline build's (\"before\"), same rounds")
    print(f"{'members':>7}  {'before msg/s':>12}  {'relay msg/s':>11}  {'speed-up':>8}  {'before/CPG':>10}  "
          f"{'before p50/p99 us':>18}")
    for members in sizes:
        old_rate, new_rate = med("before", members, "throughput", "rate"), med("relay", members, "throughput", "rate")
        cpg_rate = med("cpg", members, "throughput", "rate")
        p50, p99 = med("before", members, "latency", "p50_us"), med("before", members, "latency", "p99_us")
        print(f"{members:>7}  {old_rate:>12.0f}  {new_rate:>11.0f}  {new_rate / old_rate if old_rate else float('nan'):>8.2f}  "
              f"{old_rate / cpg_rate if cpg_rate else float('nan'):>10.2f}  {p50:>8.0f} / {p99:<7.0f}")


if __name__ == "__main__":
    main()
