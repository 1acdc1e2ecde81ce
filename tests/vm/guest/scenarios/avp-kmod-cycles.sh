# rmmod/insmod of the AVP kernel driver while traffic runs both ways: UDP
# floods from a to b and from b to a keep both interfaces' transmit and
# receive paths busy at every rmmod. Every unload and load completes, the
# kernel log stays clean, the switch never sees a bad descriptor or return,
# and a byte-exact transfer works after the last cycle.
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

CYCLES=5
BYTES=2000000


check "avp_net.ko loads" load_driver
check "interfaces up with carrier" up_pair 1500
timeout -k 5 150 avp_netcheck flood "$ADDR_B" 6000 1200 120 > /tmp/flood_a.log 2>&1 3>&- &
FLOOD_A=$!
in_ns timeout -k 5 150 avp_netcheck flood "$ADDR_A" 6000 1200 120 > /tmp/flood_b.log 2>&1 3>&- &
FLOOD_B=$!

n=1   # (not i: wait_until uses that one)
while [ "$n" -le "$CYCLES" ]; do
    check "cycle $n: rmmod and insmod with traffic both ways" reload_under_traffic up_pair 1500
    n=$((n + 1))
done
check "traffic flows after the last cycle" a_flowing
kill "$FLOOD_A" "$FLOOD_B"
wait "$FLOOD_A" "$FLOOD_B" 2>/dev/null
check "byte-exact transfer a -> b" transfer "$BYTES"
check "the switch saw no bad descriptor or return from a" host_step expect a rx_errors=0 free_errors=0 ctl_errors=0
check "nor from b" host_step expect b rx_errors=0 free_errors=0 ctl_errors=0
check "final rmmod" timeout -k 5 30 rmmod avp_net
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
