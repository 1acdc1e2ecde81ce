# server-groupd on the real cgcs.messaging port with a member (sg_member)
# inside; on the host, vmhostd relays between this VM and a simulated VM of
# the same server group, which has its own server-groupd and member
# (hosts/server_group_in_guest.py). Broadcasts cross both ways byte for
# byte, and the simulated VM's stop reaches this member as a notification.
. /scenarios/lib.sh

# Quotes, a backslash and multi-byte UTF-8: the payload must survive JSON both ways.
FROM_GUEST='from-guest "q" \ é€'
FROM_SIM='from-sim "q" \ ü😀'

show_logs() {
    echo "--- server-groupd log"; cat /tmp/server-groupd.log
    echo "--- sg_member log"; cat /tmp/sg_member.log
}

server-groupd --device /dev/virtio-ports/cgcs.messaging --log-level info >/tmp/server-groupd.log 2>&1 3>&- &
sgd=$!
check "server-groupd listens for members" wait_until 60 test -S /run/server-group/client.sock
sg_member --send "$FROM_GUEST" --expect "$FROM_SIM" >/tmp/sg_member.log 2>&1 3>&- &
member=$!

# vmhostd, the simulated VM and its member start on the host.
host_step start-host || { show_logs; exit 1; }
check "the simulated VM's broadcast arrives byte for byte" \
    wait_until 60 grep -q "^expected sim-vm$" /tmp/sg_member.log
host_step expect-guest-broadcast || failures=$((failures + 1))
check "no broadcast of its own comes back" sh -c '! grep -q "gsdk-vm" /tmp/sg_member.log'

# The host stops the simulated VM (its executor kills that VM's server-groupd).
host_step stop-sim || failures=$((failures + 1))
check "the simulated VM's stop is notified" \
    wait_until 60 sh -c 'grep "^notification " /tmp/sg_member.log | grep "\"instance_name\":\"sim-vm\"" | grep -q "\"event_type\":\"stop_end\""'
check "the notification says stopped" \
    sh -c 'grep "\"event_type\":\"stop_end\"" /tmp/sg_member.log | grep -q "\"state\":\"stopped\""'

[ "$failures" = 0 ] || show_logs
kill $member $sgd
exit "$failures"
