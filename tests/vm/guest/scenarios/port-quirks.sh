# The guest end of a real virtio-serial port behaves as docs/protocols/virtio-serial-ports.md states.
port-quirks --port /dev/virtio-ports/cgcs.heartbeat --control-fd 3
