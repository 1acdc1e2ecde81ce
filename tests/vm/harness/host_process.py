"""A host-side program run by a scenario driver (vmhostd, a relay...): its
output is kept line by line, echoed with a prefix, and can be waited on."""

import re
import signal
import subprocess
import threading
import time

# How long a SIGKILLed process may take to be reaped before the harness gives up.
KILL_WAIT_S = 10


class HostProcess:
    def __init__(self, argv, log_path, prefix):
        self.argv = argv
        self.prefix = prefix
        self.lines = []
        self._cv = threading.Condition()
        self._log = open(log_path, "a")
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def _follow(self):
        for raw in self._proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self._log.write(line + "\n")
            self._log.flush()
            print(self.prefix + line, flush=True)
            with self._cv:
                self.lines.append(line)
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def mark(self):
        """A position in the output: wait_for(..., start=mark()) sees only later lines."""
        with self._cv:
            return len(self.lines)

    def wait_for(self, pattern, timeout, start=0):
        """The first output line from `start` on matching `pattern`, or None."""
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        i = start
        with self._cv:
            while True:
                while i < len(self.lines):
                    if regex.search(self.lines[i]):
                        return self.lines[i]
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or (self._proc.poll() is not None and not self._reader.is_alive()):
                    return None
                self._cv.wait(timeout=min(left, 0.5))

    def running(self):
        return self._proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL if it lingers; returns the exit status."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=KILL_WAIT_S)
        self._reader.join(timeout=2)
        self._log.close()
        return self._proc.returncode
