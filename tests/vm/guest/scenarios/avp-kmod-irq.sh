# The AVP kernel driver with interrupts: two ivshmem-doorbell devices whose
# MSI-X vectors the switch signals (vector 0: control answers and migration,
# 1 + q: queue q). Traffic is byte-exact through interrupt-driven NAPI; an
# idle port takes no interrupt and no poll at all; control answers and a
# live migration arrive on vector 0 (nothing polls for them).
. /scenarios/lib.sh
. /scenarios/avp_kmod_lib.sh

BYTES=3000000
QUIET_S=3   # the idle period watched; any wake-up in it fails, however short it is

# irqs DEV: interrupts taken by DEV's vectors (<pci>-ctrl, <pci>-qN), all CPUs
irqs() {
    awk -v dev="$1" '$NF ~ "^" dev "-(ctrl|q[0-9]+)$" {
        for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break
    } END { print s + 0 }' /proc/interrupts
}
# wakeups: every wake-up of both ports the driver counts, and their vectors
wakeups() {
    echo "$(stat_of "$IF_A" rx_polls) $(stat_of "$IF_A" rx_interrupts) $(stat_of "$IF_A" ctrl_interrupts)" \
        "$(stat_of "$IF_A" migration_checks) $(stat_of "$IF_B" rx_polls ns) $(stat_of "$IF_B" rx_interrupts ns)" \
        "$(stat_of "$IF_B" ctrl_interrupts ns) $(stat_of "$IF_B" migration_checks ns) $(irqs "$DEV_A") $(irqs "$DEV_B")"
}
# settled: nothing woke either port for a second (traffic has ended, the
# last refills of alloc have been signalled and polled)
settled() {
    w1=$(wakeups)
    sleep 1
    [ "$(wakeups)" = "$w1" ]
}
# quiet: no wake-up at all over QUIET_S seconds
quiet() {
    before=$(wakeups)
    sleep "$QUIET_S"
    after=$(wakeups)
    echo "GSDK: wake-ups (a: polls interrupts ctrl-interrupts migration-checks, b: the same, vectors a, b):"
    echo "GSDK:   before $before"
    echo "GSDK:   after  $after"
    [ "$before" = "$after" ]
}
counter_of() { stat_of "$1" "$2" $3; }
grew() { [ "$2" -gt "$1" ]; }

check "avp_net.ko loads" load_driver
check "a takes 5 MSI-X vectors, 4 queues interrupt-driven" \
    sh -c "dmesg | grep -q '$DEV_A: 5 MSI-X vectors, 4 queues interrupt-driven'"
check "b too" sh -c "dmesg | grep -q '$DEV_B: 5 MSI-X vectors, 4 queues interrupt-driven'"
check "the vectors are named in /proc/interrupts" \
    sh -c "grep -q '$DEV_A-ctrl\$' /proc/interrupts && grep -q '$DEV_B-q3\$' /proc/interrupts"
check "interfaces up with carrier" up_pair 1500
check "ping b from a" timeout -k 5 30 ping -c 3 -W 5 "$ADDR_B"
# Between pings the switch sleeps until rung (both guests promised to ring).
check "a takes the host's offer to ring it" \
    sh -c "dmesg | grep -q '$DEV_A: 5 MSI-X vectors, 4 queues interrupt-driven, host rung when it sleeps'"
check "a rang the sleeping switch for its pings" grew 0 "$(counter_of "$IF_A" tx_host_wakeups)"
check "the switch slept on a's promise and was woken by its doorbell" \
    host_step expect a doorbell.guest_rings=True "doorbell.host_wakeups>=1"

b_irqs=$(counter_of "$IF_B" rx_interrupts ns)
a_irqs=$(counter_of "$IF_A" rx_interrupts)
check "MTU 1500: $BYTES bytes a -> b byte-exact" transfer "$BYTES"
check "b took receive interrupts during the transfer" grew "$b_irqs" "$(counter_of "$IF_B" rx_interrupts ns)"
check "a took receive interrupts (the ACKs)" grew "$a_irqs" "$(counter_of "$IF_A" rx_interrupts)"
check "MTU 9000 on both" set_mtu 9000
check "MTU 9000: $BYTES bytes a -> b byte-exact" transfer "$BYTES"
check "the switch signalled queue vectors and vector 0 of b" \
    host_step expect b "doorbell.queue_signals>=1" "doorbell.control_signals>=1" doorbell.vectors=5

# Idle: no traffic, so no interrupt, no NAPI poll, no timer, no watcher run.
check "the ports settle once the traffic has ended" wait_until 20 settled
check "an idle port takes no wake-ups at all ($QUIET_S s watched)" quiet

# Control requests ring the switch (its peer's vector 1), answers arrive on vector 0.
c0=$(counter_of "$IF_A" ctrl_interrupts)
r0=$(counter_of "$IF_A" ctrl_rings)
check "an MTU change is answered (through vector 0)" ip link set "$IF_A" mtu 1500
check "vector 0 fired for the answer" grew "$c0" "$(counter_of "$IF_A" ctrl_interrupts)"
check "a rang the switch for the request" grew "$r0" "$(counter_of "$IF_A" ctrl_rings)"
check "the switch took MTU 1500" host_step expect a mtu=1500
check "the switch was rung for it" host_step expect a "doorbell.ctrl_rings>=1"
in_ns ip link set "$IF_B" mtu 1500

# A migration is seen only through vector 0: nothing polls the status here.
m0=$(counter_of "$IF_A" migration_checks)
check "detach a" host_step migrate a detach
check "the detach was handled (vector 0)" test "$(counter_of "$IF_A" migration_detach)" = 1
check "attach a" host_step migrate a attach
check "the attach was handled (vector 0)" test "$(counter_of "$IF_A" migration_attach)" = 1
check "the watcher ran for the events only" grew "$m0" "$(counter_of "$IF_A" migration_checks)"
check "a has carrier again" wait_until 10 carrier_a
# The attach rebuilt the interrupt area; the driver promised again.
check "a promises to ring the switch again after the attach" host_step expect a doorbell.guest_rings=True
check "byte-exact after the migration" transfer "$BYTES"
check "the ports settle again" wait_until 20 settled
check "an idle port takes no wake-ups after a migration either" quiet

check "no errors counted" sh -c "
    for c in rx_bad_address_errors rx_bad_length_errors rx_bad_chain_errors rx_bad_index_errors tx_bad_index_errors tx_bad_alloc_buffers ctrl_timeouts ctrl_errors migration_errors; do
        [ \"\$(ethtool -S $IF_A | sed -n \"s/^ *\$c: //p\")\" = 0 ] || { echo \"\$c not 0\"; exit 1; }
    done"
check "the driver's counters equal the switch's (a and b)" counters_agree
check "the switch saw no bad descriptor or return" host_step expect a rx_errors=0 free_errors=0 ctl_errors=0
check "rmmod avp_net (vectors freed)" timeout -k 5 30 rmmod avp_net
check "the switch no longer counts on a's doorbell" host_step expect a doorbell.guest_rings=False
check "no vector left in /proc/interrupts" sh -c "! grep -q '$DEV_A-' /proc/interrupts"
check "no WARNING, BUG or Oops in dmesg" dmesg_clean
exit "$failures"
