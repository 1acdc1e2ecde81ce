#!/usr/bin/env bash
# Hostile host: the switch's fault-injection modes feed the receiving driver
# descriptors pointing outside the shared memory, oversize lengths, chain
# loops, lying segment counts, a FIFO index beyond its length and broken
# magics. The driver must not crash, must not hand any of it to the
# application, and must count every bad descriptor. In the ASan build the
# traffic program and the driver are instrumented, so a wild access aborts.
source "$(dirname "$0")/avp_test_lib.sh"

start_switch --port a,profile=file,path="$(region a)" \
             --port b,profile=file,path="$(region b)" --pair a,b

faults() {
    local m
    for m in slot-outside data-outside next-outside oversize chain-loop nb-segs-lie; do
        ctl fault b "$m" 40 >>"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "fault $m"; }
        sleep 0.1
    done
}

# Phase 1: bad descriptors among good traffic; good frames must stay intact.
# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --seconds 3 --allow-loss --min-received 1000 \
    >"$WORK/out1" 2>&1 &
APP=$!
PIDS+=("$APP")
wait_guest_up b
sleep 0.5
faults
wait "$APP" || { cat "$WORK/out1"; fail "phase 1: crash or bad frame delivered"; }
grep -E "^result|PASS" "$WORK/out1"
injected=$(ctl stats b | sed -n 's/.*"faults_injected": \([0-9]*\).*/\1/p')
counted=0
for x in rx_bad_address_errors rx_bad_length_errors rx_bad_chain_errors; do
    v=$(xstat "$WORK/out1" 1 $x)
    echo "$x=$v"
    counted=$((counted + v))
done
echo "injected=$injected counted=$counted"
[ "$injected" -gt 0 ] || fail "switch injected nothing"
[ "$counted" = "$injected" ] || fail "driver counted $counted bad descriptors, switch injected $injected"
[ "$(xstat "$WORK/out1" 1 rx_errors)" = "$counted" ] || fail "ierrors does not match"

# Phase 2: a FIFO write index beyond the FIFO length, then restored; the
# stream is garbage meanwhile, so only survival and containment are checked.
# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500 --seconds 2 --no-check >"$WORK/out2" 2>&1 &
APP=$!
PIDS+=("$APP")
wait_guest_up b
sleep 0.3
ctl fault b fifo-index >>"$WORK/ctl.log" 2>&1 || fail "fault fifo-index"
sleep 0.3
ctl fault b clear >>"$WORK/ctl.log" 2>&1 || fail "fault clear"
wait "$APP" || { cat "$WORK/out2"; fail "phase 2: crash"; }
grep -E "^result|PASS" "$WORK/out2"

# Phase 3: broken magics are refused at probe with an error naming the cause.
probe_refused() {   # FAULT EXPECTED-MESSAGE
    ctl fault b "$1" >>"$WORK/ctl.log" 2>&1 || fail "fault $1"
    # shellcheck disable=SC2046
    if timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 --vdev=net_gsdk_avp1,path="$(region b)" -- \
        --tx 0 --rx 0 --count 1 >"$WORK/out-$1" 2>&1; then
        fail "probe accepted a region with fault $1"
    fi
    grep -q "$2" "$WORK/out-$1" || { cat "$WORK/out-$1"; fail "no clear error for $1"; }
    echo "$1: refused ($2)"
    ctl fault b clear >>"$WORK/ctl.log" 2>&1 || fail "fault clear"
}
probe_refused devinfo-magic "bad device info magic"
probe_refused memmap-magic "bad memory map magic"
probe_refused region-magic "no AVP region magic"

# And after the repairs the same port works again.
# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --count 300 >"$WORK/out3" 2>&1 ||
    { cat "$WORK/out3"; fail "port unusable after the faults were cleared"; }
grep -E "^result|PASS" "$WORK/out3"
echo PASS
