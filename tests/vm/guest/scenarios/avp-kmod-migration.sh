# Live migration with the AVP kernel driver: while a TCP transfer runs from a
# to b, the switch detaches and re-attaches port a, then port b (new host
# addresses, new device id each time). The connection survives, every byte
# arrives intact, the driver counts the events and the switch sees it
# configured again. Then a device found detached at probe is refused.
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

BYTES=8000000
PAUSE_US=20000   # between 64 KiB writes: the transfer lasts through both migrations

# probe_id IF: the device id the driver reported last for IF (probe or attach)
last_id() {
    dmesg | sed -n "s/.* $1: \(AVP .*\|attached again (\)device id \(0x[0-9a-f]*\).*/\2/p" | tail -n1
}
progress_past() { [ "$(cat /tmp/progress 2>/dev/null || echo 0)" -ge "$1" ]; }
no_carrier_a() { ! carrier_a; }
# migrate_port PORT IFNAME [ns]: detach (link goes down), wait, attach (link back)
migrate_port() {
    before=$(last_id "$2")
    host_step migrate "$1" detach || return 1
    echo "GSDK: $1 detached: $(stat_of "$2" migration_detach $3) detach events"
    [ "$(stat_of "$2" migration_detach $3)" = 1 ] || { echo "GSDK: detach not counted"; return 1; }
    sleep 0.5
    host_step migrate "$1" attach || return 1
    [ "$(stat_of "$2" migration_attach $3)" = 1 ] || { echo "GSDK: attach not counted"; return 1; }
    after=$(last_id "$2")
    echo "GSDK: $1 device id $before -> $after"
    [ -n "$after" ] && [ "$after" != "$before" ] || { echo "GSDK: no new device id"; return 1; }
    # the switch zero-pads to 16 digits, the driver's %llx does not
    host_step device-id "$1" && [ "0x$(echo "$step_detail" | sed 's/^0*\(.\)/\1/')" = "$after" ] ||
        { echo "GSDK: the switch has device id $step_detail, the driver $after"; return 1; }
}

check "avp_net.ko loads" load_driver
check "interfaces up with carrier" up_pair 1500
check "ping b from a" timeout -k 5 30 ping -c 2 -W 5 "$ADDR_B"

check "receiver listening in b's namespace" start_receiver "$BYTES" /tmp/progress
timeout -k 5 100 avp_netcheck send "$ADDR_B" 5001 "$BYTES" "$PAUSE_US" > /tmp/send.log 2>&1 3>&- &
SEND_PID=$!
check "the transfer is under way" wait_until 30 progress_past 500000

check "port a detached and attached during the transfer" migrate_port a "$IF_A"
check "a has carrier again" wait_until 10 carrier_a
check "the transfer goes on after a's migration" wait_until 30 progress_past "$(($(cat /tmp/progress) + 300000))"
check "port b detached and attached during the transfer" migrate_port b "$IF_B" ns
check "b has carrier again" wait_until 10 carrier_b

wait "$SEND_PID"
send_status=$?
sed 's#^#send| #' /tmp/send.log
check "the sender finished (the connection survived)" test "$send_status" = 0
check "$BYTES bytes arrived byte-exact" finish_transfer "$BYTES"
check "the switch sees a up again, configured by the kernel driver, generation 1" \
    host_step expect a guest_state=up driver_type=2 generation=1 migration_ack=2 num_tx_queues=4
check "and b" host_step expect b guest_state=up generation=1 migration_ack=2
check "no migration errors, no control timeouts" sh -c "
    [ \"\$(ethtool -S $IF_A | sed -n 's/^ *migration_errors: //p')\" = 0 ] &&
    [ \"\$(ethtool -S $IF_A | sed -n 's/^ *ctrl_timeouts: //p')\" = 0 ]"

# A device the host detached before the driver binds is acknowledged and refused.
check "rmmod" timeout -k 5 30 rmmod avp_net
check "the switch waits in vain for an ack with no driver bound (detach)" \
    host_step migrate-unacked a detach 1000
check "insmod: a is refused as detached, b binds" insmod "$KO"
check "the probe of a said why" sh -c "dmesg | grep -q '$DEV_A: AVP device refused: detached by the host'"
check "b has an interface" wait_until 10 test -d "/sys/bus/pci/devices/$DEV_B/net"
check "a has none" test -z "$(netdev_of "$DEV_A")"
check "the refusal acknowledged the detach" host_step expect a migration_ack=1
check "attach with no driver bound to a" host_step migrate-unacked a attach 1000
check "bind a again: it probes now" sh -c "echo $DEV_A > /sys/bus/pci/drivers/avp_net/bind &&
    test -d /sys/bus/pci/devices/$DEV_A/net"
check "rmmod with both bound" timeout -k 5 30 rmmod avp_net
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
