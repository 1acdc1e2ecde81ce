# The AVP kernel driver to the host's own network stack: one ivshmem-doorbell
# device (port a of avp-switch, with interrupts) whose switch has a TAP in
# the same learning domain. The TAP lives in a network namespace the test
# made on the host, addressed 10.79.0.1; the host's end of every transfer
# runs there. Ping both ways, UDP checksums checked by the guest (good and
# corrupted frames), byte-exact TCP both ways at MTU 1500 and 9000,
# a live migration of port a during a transfer (the connection survives),
# and rmmod/insmod cycles while UDP runs both ways.
AVP_DEVICES=1
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

HOST=10.79.0.1
GUEST=10.79.0.2
BYTES=3000000
MIG_BYTES=8000000
PAUSE_US=20000   # between the host's 64 KiB writes: the transfer outlasts the migration
CYCLES=3

# IPv6 would add frames of its own at random moments; new interfaces inherit this.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

# up_a MTU: the address, the MTU, up with carrier
up_a() {
    IF_A=$(netdev_of "$DEV_A")
    [ -n "$IF_A" ] || return 1
    ip link set "$IF_A" mtu "$1" && ip addr add "$GUEST/24" dev "$IF_A" && ip link set "$IF_A" up || return 1
    wait_until 20 carrier_a
}
# guest_recv PORT BYTES [PROGRESS_FILE]: a receiver in the guest, listening
guest_recv() {
    rm -f /tmp/recv.log /tmp/progress
    timeout -k 5 100 avp_netcheck recv "$1" "$2" ${3:+"$3"} > /tmp/recv.log 2>&1 3>&- &
    RECV_PID=$!
    wait_until 10 grep -q '^listening' /tmp/recv.log
}
# to_host PORT BYTES: guest -> host, checked byte for byte on the host
to_host() {
    host_step host-start "up$1" recv "$1" "$2" || return 1
    timeout -k 5 100 avp_netcheck send "$HOST" "$1" "$2" 3>&- | sed 's#^#send| #'
    host_step host-wait "up$1" && echo "GSDK: host: $step_detail"
}
# from_host PORT BYTES: host -> guest, checked byte for byte in the guest
from_host() {
    guest_recv "$1" "$2" || return 1
    host_step host-start "down$1" send "$GUEST" "$1" "$2" || return 1
    finish_transfer "$2" && host_step host-wait "down$1"
}
progress_past() { [ "$(cat /tmp/progress 2>/dev/null || echo 0)" -ge "$1" ]; }

check "avp_net.ko loads" load_driver
check "the device is interrupt-driven (doorbell MSI-X)" \
    sh -c "dmesg | grep -q '$DEV_A: 5 MSI-X vectors, 4 queues interrupt-driven'"
check "interface up with carrier (MTU 1500)" up_a 1500
check "the host's side of the TAP at MTU 1500" host_step tap-mtu 1500
check "ping the host's stack from the guest" timeout -k 5 30 ping -c 3 -W 5 "$HOST"
check "ping the guest from the host's stack" host_step host-ping "$GUEST" 56 3

# The stack still rejects a corrupted UDP checksum with the sum the driver
# hands it (CHECKSUM_COMPLETE) and without (ethtool -K rx off): no listener
# on the port, so a good datagram counts as NoPorts, a bad one as InCsumErrors.
udp_stat() {
    awk -v k="$1" '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 }
                            else { for (i = 1; i <= NF; i++) if (n[i] == k) print $i } }' /proc/net/snmp
}
udp_stat_is() { [ "$(udp_stat "$1")" = "$2" ]; }
udp_stat_reaches() { [ "$(udp_stat "$1")" -ge "$2" ]; }
udp_checksums() {
    csum0=$(udp_stat InCsumErrors) noport0=$(udp_stat NoPorts)
    host_step udp-frames "$GUEST" 7001 20 bad || return 1
    wait_until 20 udp_stat_is InCsumErrors "$((csum0 + 20))" || { echo "GSDK: InCsumErrors $(udp_stat InCsumErrors), expected $((csum0 + 20))"; return 1; }
    host_step udp-frames "$GUEST" 7001 20 good || return 1
    wait_until 20 udp_stat_reaches NoPorts "$((noport0 + 20))" || { echo "GSDK: NoPorts $(udp_stat NoPorts), expected $((noport0 + 20))"; return 1; }
    udp_stat_is InCsumErrors "$((csum0 + 20))" || { echo "GSDK: good datagrams counted as checksum errors"; return 1; }
}
check "receive checksum offload on (CHECKSUM_COMPLETE)" sh -c "ethtool -k $IF_A | grep -q '^rx-checksumming: on'"
check "bad UDP checksums counted, good ones accepted (rx offload on)" udp_checksums
check "receive checksum offload off" ethtool -K "$IF_A" rx off
check "bad UDP checksums counted, good ones accepted (rx offload off)" udp_checksums
check "receive checksum offload on again" ethtool -K "$IF_A" rx on

check "MTU 1500: $BYTES bytes guest -> host byte-exact" to_host 5001 "$BYTES"
check "MTU 1500: $BYTES bytes host -> guest byte-exact" from_host 5002 "$BYTES"

check "MTU 9000 in the guest" ip link set "$IF_A" mtu 9000
check "MTU 9000 on the host's side" host_step tap-mtu 9000
check "the switch took MTU 9000" host_step expect a mtu=9000
check "9000-byte pings guest -> host" timeout -k 5 30 ping -c 3 -W 5 -s 8972 "$HOST"
check "9000-byte pings host -> guest" host_step host-ping "$GUEST" 8972 3
check "MTU 9000: $BYTES bytes guest -> host byte-exact" to_host 5003 "$BYTES"
check "MTU 9000: $BYTES bytes host -> guest byte-exact" from_host 5004 "$BYTES"
check "jumbo frames both ways (bytes/packet > 1500)" sh -c "
    s=\$(ethtool -S $IF_A)
    tp=\$(echo \"\$s\" | sed -n 's/^ *tx_packets: //p'); tb=\$(echo \"\$s\" | sed -n 's/^ *tx_bytes: //p')
    rp=\$(echo \"\$s\" | sed -n 's/^ *rx_packets: //p'); rb=\$(echo \"\$s\" | sed -n 's/^ *rx_bytes: //p')
    [ \$((tb / tp)) -gt 1500 ] && [ \$((rb / rp)) -gt 1500 ]"

# Live migration while the host's stack sends to the guest.
ip link set "$IF_A" mtu 1500
host_step tap-mtu 1500
check "receiver listening in the guest" guest_recv 5005 "$MIG_BYTES" /tmp/progress
check "the host sends $MIG_BYTES bytes, paced" host_step host-start mig send "$GUEST" 5005 "$MIG_BYTES" "$PAUSE_US"
check "the transfer is under way" wait_until 30 progress_past 500000
check "detach" host_step migrate a detach
check "detach counted once" test "$(stat_of "$IF_A" migration_detach)" = 1
sleep 0.5
check "attach" host_step migrate a attach
check "attach counted once" test "$(stat_of "$IF_A" migration_attach)" = 1
check "carrier again" wait_until 10 carrier_a
check "the transfer goes on after the migration" wait_until 30 progress_past "$(($(cat /tmp/progress) + 300000))"
check "$MIG_BYTES bytes arrived byte-exact (the connection survived)" finish_transfer "$MIG_BYTES"
check "the host's sender finished" host_step host-wait mig
check "no migration errors, no control timeouts" sh -c "
    [ \"\$(ethtool -S $IF_A | sed -n 's/^ *migration_errors: //p')\" = 0 ] &&
    [ \"\$(ethtool -S $IF_A | sed -n 's/^ *ctrl_timeouts: //p')\" = 0 ]"

# rmmod/insmod while UDP floods run both ways.
check "the host floods the guest" host_step host-start flood flood "$GUEST" 6000 1200 90
timeout -k 5 120 avp_netcheck flood "$HOST" 6000 1200 90 > /tmp/flood.log 2>&1 3>&- &
FLOOD=$!
n=1
while [ "$n" -le "$CYCLES" ]; do
    check "cycle $n: rmmod and insmod with traffic both ways" reload_under_traffic up_a 1500
    n=$((n + 1))
done
check "traffic flows after the last cycle" a_flowing
kill "$FLOOD"
wait "$FLOOD" 2>/dev/null
check "the host's flood stopped" host_step host-stop flood
check "byte-exact transfer guest -> host after the cycles" to_host 5006 "$BYTES"
check "byte-exact transfer host -> guest after the cycles" from_host 5007 "$BYTES"
check "the switch saw no bad descriptor, return or request" host_step expect a rx_errors=0 free_errors=0 ctl_errors=0
check "rmmod" timeout -k 5 30 rmmod avp_net
check "the switch sees the driver shut the device down" host_step expect a guest_state=shutdown
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
