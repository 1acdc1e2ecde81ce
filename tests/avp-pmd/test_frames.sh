#!/usr/bin/env bash
# Two file-profile ports paired in the switch: frames of 64, 1500 and 9000
# bytes (9000 = a chain of 5 host buffers) sent on one arrive on the other
# byte-exact and in order; frames to a foreign unicast address are filtered
# by the receiving driver (not promiscuous) and counted; VLAN tags inserted
# on transmit come back stripped with their TCI.
source "$(dirname "$0")/avp_test_lib.sh"

# Eight queues offered each way, the most the device model has.
start_switch --port a,profile=file,path="$(region a)",queues=8 \
             --port b,profile=file,path="$(region b)",queues=8 --pair a,b

# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --count 3000 --stray 20 >"$WORK/out" 2>&1 ||
    { cat "$WORK/out"; fail "traffic check failed"; }
cat "$WORK/out" | grep -E "^result|PASS"

[ "$(result "$WORK/out" received)" = 3000 ] || fail "expected 3000 frames"
# Link: up once started and accepted by the host, down after stop.
grep -q "^link port=0 up=1" "$WORK/out" && grep -q "^link port=1 up=1" "$WORK/out" ||
    fail "link not up after start"
grep -q "^link-after-stop port=0 up=0" "$WORK/out" || fail "link still up after stop"
[ "$(xstat "$WORK/out" 1 rx_filtered_packets)" = 20 ] || fail "expected 20 filtered frames"
[ "$(xstat "$WORK/out" 1 rx_good_packets)" = 3000 ] || fail "rx_good_packets wrong"
# The host agrees with what the driver counted.
ctl stats b | grep -q '"tx_packets": 3020' || { ctl stats b; fail "switch count differs"; }

# VLAN: the sender asks for tag insertion, the receiver for stripping; the
# tag must come back as metadata with the same TCI on every frame.
# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --count 600 --vlan 291 >"$WORK/out-vlan" 2>&1 ||
    { cat "$WORK/out-vlan"; fail "VLAN insert/strip failed"; }
grep -E "^result" "$WORK/out-vlan"

# Eight queues each way: every queue carries traffic, nothing is lost or
# damaged (order is only kept within one queue).
# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --count 2000 --queues 8 >"$WORK/out-mq" 2>&1 ||
    { cat "$WORK/out-mq"; fail "multi-queue run failed"; }
grep -E "^result" "$WORK/out-mq"
for q in 0 1 2 3 4 5 6 7; do
    [ "$(xstat "$WORK/out-mq" 0 tx_q${q}_packets)" -gt 0 ] || fail "tx queue $q unused"
    [ "$(xstat "$WORK/out-mq" 1 rx_q${q}_packets)" -gt 0 ] || fail "rx queue $q unused"
done

# Frames larger than the host's max_rx_pkt_len (9238) are dropped and counted,
# never truncated: nothing arrives.
# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 9500 --count 20 --no-check >"$WORK/out-big" 2>&1 ||
    { cat "$WORK/out-big"; fail "oversize run failed"; }
[ "$(xstat "$WORK/out-big" 0 tx_oversize_dropped)" = 20 ] || fail "oversize frames not counted"
[ "$(result "$WORK/out-big" received)" = 0 ] || fail "an oversize frame arrived"
echo "oversize: 20 dropped and counted"
echo PASS
