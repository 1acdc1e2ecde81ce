# The guest end of a real virtio-serial port behaves as PROTOCOLS.md states.
port-quirks --port /dev/virtio-ports/cgcs.heartbeat --control-fd 3
