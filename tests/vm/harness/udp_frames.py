#!/usr/bin/env python3
"""udp_frames.py IFNAME DST_MAC SRC_IP DST_IP PORT COUNT good|bad

Writes COUNT IPv4/UDP frames straight onto IFNAME (a packet socket, so the
host's stack neither fills in nor checks anything), with a correct UDP
checksum or a wrong non-zero one: what the guest's stack must accept or
count as a checksum error, whatever its driver told it about the sum."""

import socket
import struct
import sys


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def frame(src_mac, dst_mac, src_ip, dst_ip, port, seq, good):
    payload = struct.pack("!I", seq) + bytes((seq + i) & 0xff for i in range(97))  # odd length on purpose
    udp_len = 8 + len(payload)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp = struct.pack("!HHHH", 40000, port, udp_len, 0) + payload
    check = 0xffff - ones_sum(pseudo + udp) or 0xffff
    if not good:
        check ^= 0x5a5a  # still non-zero: 0 would mean "no checksum"
    udp = udp[:6] + struct.pack("!H", check) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, seq & 0xffff, 0x4000, 64,
                     socket.IPPROTO_UDP, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", 0xffff - ones_sum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + udp


def main():
    if len(sys.argv) != 8 or sys.argv[7] not in ("good", "bad"):
        sys.exit(__doc__)
    ifname, dst_mac, src_ip, dst_ip, port, count, kind = sys.argv[1:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    src_mac = s.getsockname()[4]
    dst = bytes.fromhex(dst_mac.replace(":", ""))
    for seq in range(int(count)):
        s.send(frame(src_mac, dst, socket.inet_aton(src_ip), socket.inet_aton(dst_ip), int(port), seq,
                     kind == "good"))
    print(f"sent {count} {kind} frames to {dst_mac} port {port}")


if __name__ == "__main__":
    main()
