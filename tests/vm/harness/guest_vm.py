"""One QEMU test guest (docs/vm-tests.md): boots the Debian guest kernel with our
initramfs under TCG, exposes the virtio-serial ports as chardev sockets in a
private directory, follows the serial console, and talks to the scenario over
the test-control port. Judges the run by the console marker and the
isa-debug-exit code together, never by QEMU's plain exit status."""

import os
import re
import socket
import subprocess
import threading
import time
import uuid

DEFAULT_KERNEL_DIR = os.environ.get("GSDK_GUEST_KERNEL_DIR", "/var/cache/gsdk/guest-kernel")
KERNEL_APPEND = ("console=ttyS0 quiet panic=-1 cryptomgr.notests lpj=10000000 tsc=reliable "
                 "no_timer_check mitigations=off audit=0 nmi_watchdog=0 8250.nr_uarts=1 "
                 "random.trust_cpu=on")
# Ports named as the guest sees them; the socket file name on the host.
PORTS = {"cgcs.heartbeat": "hb.sock", "cgcs.messaging": "msg.sock", "gsdk.control": "ctl.sock"}
INIT_MARKER = "GSDK-INIT-STARTED"
# How long a SIGKILLed QEMU may take to be reaped before the harness gives up.
KILL_WAIT_S = 10
# isa-debug-exit: QEMU exits with (value << 1) | 1; /init writes 0 for a pass.
EXIT_PASS = 1


class GuestError(Exception):
    """The guest or the harness failed in a way the scenario cannot go on from."""


class ScenarioSkipped(Exception):
    """This machine cannot run the scenario (e.g. no root for a network
    namespace); run_scenario.py exits 77, which ctest reports as skipped."""


class GuestVM:
    def __init__(self, image, scenario, workdir, kernel_dir=DEFAULT_KERNEL_DIR, deadline_s=60,
                 boot_deadline_s=30, smp=4, memory_mb=512, shm_mb=16, log_prefix="guest| ",
                 ivshmem_paths=None, ivshmem_doorbells=None, ivshmem_vectors=9, extra_args=(),
                 allow_reboot=False):
        self.image = image
        self.scenario = scenario
        self.workdir = workdir
        self.kernel_dir = kernel_dir
        self.deadline_s = deadline_s
        self.boot_deadline_s = boot_deadline_s
        self.smp = smp
        self.memory_mb = memory_mb
        self.shm_mb = shm_mb
        self.log_prefix = log_prefix
        # The ivshmem devices' backing files: one private blank file, or files
        # a host program owns (avp-switch regions, one device each, in PCI
        # order), which are never removed here and whose sizes QEMU takes as
        # they are (each must be a power of two).
        # Or ivshmem-doorbell devices (MSI-X), one per socket of a host
        # program playing QEMU's ivshmem server, which hands QEMU the region.
        self.own_shm = not ivshmem_paths and not ivshmem_doorbells
        self.shm_path = f"/dev/shm/gsdk-vm-{uuid.uuid4().hex[:12]}"
        self.ivshmem_paths = list(ivshmem_paths or [])
        self.ivshmem_doorbells = list(ivshmem_doorbells or [])
        self.ivshmem_vectors = ivshmem_vectors
        # Further QEMU options a host driver needs (e.g. a QMP monitor).
        self.extra_args = list(extra_args)
        # A guest that reboots boots again in the same QEMU, with the same
        # image and the same drives and ports (a scenario that spans a
        # reboot); otherwise QEMU exits (-no-reboot).
        self.allow_reboot = allow_reboot
        self.console = []          # lines seen so far
        self._console_cv = threading.Condition()
        self._proc = None
        self._deadline = None
        self._control = None
        self._control_buf = b""
        self.exit_code = None
        self.started_at = None
        self.boot_seconds = None   # launch until /init ran

    # --- lifecycle ------------------------------------------------------

    def socket_path(self, port_name):
        return os.path.join(self.workdir, PORTS[port_name])

    def command(self):
        vmlinux = os.path.join(self.kernel_dir, "vmlinux")
        cmd = ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-cpu", "max",
               "-m", str(self.memory_mb), "-smp", str(self.smp), "-nodefaults", "-no-user-config",
               "-display", "none", "-serial", "stdio",
               "-kernel", vmlinux, "-initrd", self.image,
               "-append", f"{KERNEL_APPEND} scenario={self.scenario}",
               "-device", "virtio-serial-pci,id=vs0"]
        for i, (name, sock) in enumerate(PORTS.items()):
            path = os.path.join(self.workdir, sock)
            cmd += ["-chardev", f"socket,id=port{i},path={path},server=on,wait=off",
                    "-device", f"virtserialport,bus=vs0.0,chardev=port{i},name={name}"]
        if self.own_shm:
            backing = [(self.shm_path, f"{self.shm_mb}M")]
        else:
            backing = [(path, str(os.path.getsize(path))) for path in self.ivshmem_paths]
        for i, sock in enumerate(self.ivshmem_doorbells):
            cmd += ["-chardev", f"socket,id=bell{i},path={sock}",
                    "-device", f"ivshmem-doorbell,chardev=bell{i},vectors={self.ivshmem_vectors}"]
        for i, (path, size) in enumerate(backing):
            cmd += ["-object", f"memory-backend-file,id=shm{i},share=on,mem-path={path},size={size}",
                    "-device", f"ivshmem-plain,memdev=shm{i}"]
        cmd += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if not self.allow_reboot:
            cmd.append("-no-reboot")
        cmd += self.extra_args
        return cmd

    def start(self):
        if not os.path.isfile(os.path.join(self.kernel_dir, "vmlinux")):
            raise GuestError(f"no guest kernel in {self.kernel_dir}: run tools/setup.d/40-guest-kernel.sh")
        os.makedirs(self.workdir, exist_ok=True)
        for sock in PORTS.values():
            try:
                os.unlink(os.path.join(self.workdir, sock))
            except FileNotFoundError:
                pass
        self.started_at = time.monotonic()
        self._deadline = self.started_at + self.deadline_s
        self._console_file = open(os.path.join(self.workdir, "console.log"), "w")
        self._proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._console_thread = threading.Thread(target=self._follow_console, daemon=True)
        self._console_thread.start()
        threading.Thread(target=self._enforce_deadline, daemon=True).start()
        self._control = self._connect_when_listening(self.socket_path("gsdk.control"))

    def _follow_console(self):
        for raw in self._proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            self._console_file.write(line + "\n")
            self._console_file.flush()
            print(self.log_prefix + line, flush=True)
            with self._console_cv:
                if line.startswith(INIT_MARKER) and self.boot_seconds is None:
                    self.boot_seconds = time.monotonic() - self.started_at
                self.console.append(line)
                self._console_cv.notify_all()
        with self._console_cv:
            self._console_cv.notify_all()

    def _enforce_deadline(self):
        # A boot that stalls before /init is cut short so that its retry still
        # fits in the test's timeout.
        boot_deadline = self.started_at + min(self.boot_deadline_s, self.deadline_s)
        while self._proc.poll() is None:
            now = time.monotonic()
            if now > self._deadline or (now > boot_deadline and not self.reached_init()):
                what = f"{self.deadline_s} s deadline" if now > self._deadline else \
                    f"{self.boot_deadline_s} s boot deadline (no /init)"
                print(f"{self.log_prefix}[harness] {what} passed: killing QEMU", flush=True)
                self._proc.kill()
                return
            time.sleep(0.2)

    def _connect_when_listening(self, path):
        # QEMU creates the chardev's socket during start-up.
        while time.monotonic() < self._deadline:
            if self._proc.poll() is not None:
                raise GuestError(f"QEMU exited with {self._proc.returncode} before listening on {path}")
            try:
                return connect_unix(path)
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        raise GuestError(f"QEMU never listened on {path}")

    def time_left(self):
        return max(0.0, self._deadline - time.monotonic())

    def running(self):
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self):
        """QEMU's process id (None before start)."""
        return self._proc.pid if self._proc else None

    def wait_exit(self, timeout=None):
        """Waits for QEMU to exit (at most until the deadline); returns its code."""
        timeout = self.time_left() + 2 if timeout is None else timeout
        try:
            self.exit_code = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self.exit_code = self._proc.wait(timeout=KILL_WAIT_S)
        self._console_thread.join(timeout=2)  # the last lines (the result marker)
        return self.exit_code

    def close(self):
        if self._control is not None:
            shutdown_close(self._control)
            self._control = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=KILL_WAIT_S)
        if self._proc is not None:
            self._proc.stdout.close()
        if getattr(self, "_console_file", None):
            self._console_file.close()
            self._console_file = None
        if self.own_shm:
            try:
                os.unlink(self.shm_path)
            except FileNotFoundError:
                pass

    # --- what the guest said ---------------------------------------------

    def boots(self):
        """How many times the guest reached /init in this QEMU (reboots + 1)."""
        with self._console_cv:
            return sum(1 for line in self.console if line.startswith(INIT_MARKER))

    def reached_init(self):
        with self._console_cv:
            return self.boot_seconds is not None

    def wait_console(self, pattern, timeout=None, start=0):
        """Index of the first console line (from `start`) matching `pattern`, or None."""
        regex = re.compile(pattern)
        end = time.monotonic() + (self.time_left() if timeout is None else timeout)
        i = start
        with self._console_cv:
            while True:
                while i < len(self.console):
                    if regex.search(self.console[i]):
                        return i
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or not self.running():
                    return None
                self._console_cv.wait(timeout=min(left, 0.5))

    def verdict(self):
        """(passed, reason) from the exit port and the console marker."""
        marker = f"GSDK-SCENARIO-RESULT {self.scenario} "
        results = [line[len(marker):] for line in self.console if line.startswith(marker)]
        if not self.reached_init():
            return False, "the guest never reached /init"
        if not results:
            return False, f"no result marker on the console (QEMU exit code {self.exit_code})"
        if results[-1] != "PASS":
            return False, f"the guest scenario reported {results[-1]}"
        if self.exit_code != EXIT_PASS:
            return False, f"PASS marker but QEMU exit code {self.exit_code}, not the exit port's {EXIT_PASS}"
        return True, "guest reported PASS through the console and the exit port"

    # --- the test-control port ---------------------------------------------

    def next_step(self, timeout=None):
        """The next "STEP name args..." from the guest as (name, args), or None
        when the guest went away or the time ran out."""
        end = time.monotonic() + (self.time_left() if timeout is None else timeout)
        while True:
            nl = self._control_buf.find(b"\n")
            if nl >= 0:
                line = self._control_buf[:nl].decode(errors="replace").strip()
                self._control_buf = self._control_buf[nl + 1:]
                if line.startswith("STEP "):
                    words = line[5:].split()
                    if words:
                        return words[0], words[1:]
                continue
            left = end - time.monotonic()
            if left <= 0 or not self.running():
                return None
            self._control.settimeout(min(left, 0.5))
            try:
                chunk = self._control.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                return None
            self._control_buf += chunk

    def step_done(self, name, detail=""):
        self._control.sendall(f"GO {name}{' ' + detail if detail else ''}\n".encode())

    def step_failed(self, name, reason):
        self._control.sendall(f"FAIL {name} {reason}\n".encode())


def connect_unix(path, timeout=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def shutdown_close(sock):
    # shutdown() first: a plain close() while another thread reads leaves QEMU
    # unaware of the hang-up (docs/vm-tests.md#qemu-facts-on-these-machines).
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class StepFailed(Exception):
    """Raised by a host-side step handler: the check it made did not hold."""


def serve_steps(vm, handlers):
    """Answers the guest's STEP requests with `handlers` (name -> callable(args)
    returning an optional detail string) until the guest's "done" step or its
    exit. Returns the host-side failures, one line each."""
    failures = []
    while True:
        step = vm.next_step()
        if step is None:
            # The guest went away or the deadline passed: its verdict tells why.
            return failures
        name, args = step
        if name == "done":
            vm.step_done(name)
            return failures
        handler = handlers.get(name)
        if handler is None:
            failures.append(f"the guest asked for unknown step {name!r}")
            vm.step_failed(name, "unknown step")
            continue
        try:
            detail = handler(args)
        except Exception as e:  # noqa: BLE001 - any failure of a host step fails the test, with its cause
            why = str(e) if isinstance(e, StepFailed) else f"{type(e).__name__}: {e}"
            print(f"HOST CHECK FAIL: {name}: {why}", flush=True)
            failures.append(f"{name}: {why}")
            try:
                vm.step_failed(name, why.replace("\n", " "))
            except OSError:
                return failures
            continue
        print(f"HOST step {name}: done{' (' + detail + ')' if detail else ''}", flush=True)
        vm.step_done(name, detail or "")
