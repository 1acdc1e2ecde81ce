"""Host side of the port-quirks scenario: plays the host process on the
cgcs.heartbeat chardev socket (connects, writes, reads, hangs up) when the
guest's port_quirks program asks, and checks what arrives from the guest."""

import threading

from guest_vm import StepFailed, connect_unix, serve_steps, shutdown_close

LARGE_WRITE_BYTES = 256 * 1024  # as in guest/port_quirks.c
WAIT_S = 20


def expected_large():
    return bytes(((i * 7 + i // 251) & 0xFF) for i in range(LARGE_WRITE_BYTES))


def read_line(sock):
    sock.settimeout(WAIT_S)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise StepFailed(f"the guest side closed before a full line (got {data!r})")
        data += chunk
    return data[:-1].decode(errors="replace")


class PortHost:
    def __init__(self, vm):
        self.path = vm.socket_path("cgcs.heartbeat")
        self.conn = None
        self.large = None  # (bytes, number of recv() calls) from the reader thread
        self.reader = None

    def ensure_disconnected(self, args):
        if self.conn is not None:
            raise StepFailed("the host side is still connected")
        return "no host process connected"

    def connect(self, args):
        self.conn = connect_unix(self.path, timeout=WAIT_S)
        return None

    def expect_guest_hello(self, args):
        line = read_line(self.conn)
        if line != "guest-hello":
            raise StepFailed(f"expected 'guest-hello', got {line!r}")
        return "got guest-hello"

    def send_host_hello(self, args):
        self.conn.sendall(b"host-hello\n")

    def read_large(self, args):
        # Read concurrently: the guest's writes only finish if we drain the socket.
        def reader():
            got, reads = bytearray(), 0
            self.conn.settimeout(WAIT_S)
            try:
                while len(got) < LARGE_WRITE_BYTES:
                    chunk = self.conn.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                    reads += 1
            except OSError:
                pass
            self.large = (bytes(got), reads)

        self.reader = threading.Thread(target=reader, daemon=True)
        self.reader.start()

    def verify_large(self, args):
        self.reader.join(timeout=WAIT_S + 5)
        if self.large is None:
            raise StepFailed("the host reader is still waiting for the large write")
        got, reads = self.large
        if len(got) != LARGE_WRITE_BYTES:
            raise StepFailed(f"{len(got)} of {LARGE_WRITE_BYTES} bytes arrived")
        if got != expected_large():
            first_bad = next(i for i, (a, b) in enumerate(zip(got, expected_large())) if a != b)
            raise StepFailed(f"the data differs from byte {first_bad} on")
        if reads < 2:
            raise StepFailed(f"{LARGE_WRITE_BYTES} bytes came in {reads} read: expected several")
        return f"{LARGE_WRITE_BYTES} bytes intact in {reads} reads"

    def disconnect(self, args):
        shutdown_close(self.conn)
        self.conn = None

    def connect_and_write_early(self, args):
        self.conn = connect_unix(self.path, timeout=WAIT_S)
        self.conn.sendall(b"early-bird\n")

    def close(self):
        if self.conn is not None:
            shutdown_close(self.conn)
            self.conn = None


def drive(vm, options):
    host = PortHost(vm)
    try:
        return serve_steps(vm, {
            "ensure-disconnected": host.ensure_disconnected,
            "connect": host.connect,
            "expect-guest-hello": host.expect_guest_hello,
            "send-host-hello": host.send_host_hello,
            "read-large": host.read_large,
            "verify-large": host.verify_large,
            "disconnect": host.disconnect,
            "connect-and-write-early": host.connect_and_write_early,
        })
    finally:
        host.close()
