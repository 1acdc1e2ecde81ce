#!/usr/bin/env bash
# Stock dpdk-testpmd loads our driver with -d and io-forwards between two AVP
# ports; our test program sends 64/1500/9000-byte frames through
#   avp_traffic:a -> switch -> b:testpmd:c -> switch -> d:avp_traffic
# and checks they come back byte-exact and in order.
source "$(dirname "$0")/avp_test_lib.sh"
: "${TESTPMD:?}"

start_switch --port a,profile=file,path="$(region a)" --port b,profile=file,path="$(region b)" \
             --port c,profile=file,path="$(region c)" --port d,profile=file,path="$(region d)" \
             --pair a,b --pair c,d

# shellcheck disable=SC2046
timeout -k 5 170 "$TESTPMD" $(eal_common) -l 0,1 $(vdev b 0) $(vdev c 1) -- \
    --total-num-mbufs=16384 --forward-mode=io --auto-start --stats-period 1 \
    --max-pkt-len=9018 --rxq=1 --txq=1 </dev/null >"$WORK/testpmd.log" 2>&1 &
TP=$!
PIDS+=("$TP")
for _ in $(seq 150); do
    grep -q "Port statistics" "$WORK/testpmd.log" 2>/dev/null && break
    kill -0 "$TP" 2>/dev/null || { cat "$WORK/testpmd.log"; fail "testpmd died"; }
    sleep 0.2
done
grep -q "Port statistics" "$WORK/testpmd.log" || { cat "$WORK/testpmd.log"; fail "testpmd did not start forwarding"; }

# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev d 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --count 3000 --window 64 >"$WORK/out" 2>&1 ||
    { cat "$WORK/out"; tail -40 "$WORK/testpmd.log"; fail "traffic through testpmd failed"; }
grep -E "^result|PASS" "$WORK/out"
[ "$(result "$WORK/out" received)" = 3000 ] || fail "expected 3000 frames"

kill -INT "$TP"
wait "$TP" || true
grep -q "net_gsdk_avp0: port 0 on" "$WORK/testpmd.log" && grep -q "net_gsdk_avp1: port 1 on" "$WORK/testpmd.log" ||
    { tail -40 "$WORK/testpmd.log"; fail "testpmd did not probe its ports with our driver"; }
grep -E "Forward statistics for port|RX-packets|TX-packets" "$WORK/testpmd.log" | tail -8
echo PASS
