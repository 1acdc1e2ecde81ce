#!/usr/bin/env bash
# Hostile host: the switch's fault-injection modes feed the receiving driver
# descriptors pointing outside the shared memory, oversize lengths, chain
# loops, lying segment counts, a FIFO index beyond its length and broken
# magics; the sending driver alloc buffers outside the memory, with no room
# behind them or with stale looping chains and absurd lengths; alloc and
# free FIFO indices beyond their length; control answers for the wrong
# address or with a result that is no errno. The driver must not crash,
# must not hand any of it to the application, and must count every bad
# thing it refused. In the ASan build the traffic program and the driver
# are instrumented, so a wild access aborts.
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

# Phase 4: the transmit path. Bad alloc buffers are refused and counted one
# for one; usable buffers with stale looping chains and absurd lengths are
# filled like any other (the driver writes every field), so every frame
# still arrives intact and the switch sees nothing malformed.
counter() {   # PORT NAME: a switch counter of PORT
    ctl stats "$1" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"
}
before=$(counter a faults_injected)
# shellcheck disable=SC2046
"$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --seconds 120 --min-received 1000 \
    >"$WORK/out4" 2>&1 &
APP=$!
PIDS+=("$APP")
wait_guest_up a
sleep 0.3
for m in alloc-outside alloc-data-outside alloc-short-room; do
    ctl fault a "$m" 40 >>"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "fault $m"; }
done
bad=$(( $(counter a faults_injected) - before ))
for m in alloc-chain-loop alloc-garbage; do
    ctl fault a "$m" 40 >>"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "fault $m"; }
done
# The faults sit in the alloc FIFO behind what was there: once the sender
# has sent a FIFO's worth (1024) and a stash more, it has taken them all.
sent=$(counter a rx_packets)
for _ in $(seq 600); do
    [ "$(counter a rx_packets)" -gt $((sent + 2048)) ] && break
    sleep 0.1
done
[ "$(counter a rx_packets)" -gt $((sent + 2048)) ] || fail "phase 4: the sender stalled"
kill -INT "$APP"
wait "$APP" || { cat "$WORK/out4"; fail "phase 4: crash or bad frame delivered"; }
grep -E "^result|PASS" "$WORK/out4"
refused=$(xstat "$WORK/out4" 0 tx_bad_alloc_buffers)
echo "bad alloc buffers injected=$bad refused=$refused"
[ "$bad" = 120 ] || fail "switch injected $bad bad alloc buffers, not 120"
[ "$refused" = "$bad" ] || fail "driver refused $refused bad alloc buffers, switch injected $bad"
ctl stats a | grep -q '"rx_errors": 0,' || { ctl stats a; fail "the switch received malformed frames"; }

# Phase 5: free (receiver) and alloc (sender) FIFO indices beyond their
# length, then restored: survival, containment, and one count per episode.
# Each fault stays until the traffic shows the driver has met it: a receiver
# that cannot return buffers stops draining (the switch starts dropping), a
# sender without buffers stops sending.
# shellcheck disable=SC2046
"$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500 --seconds 120 --no-check >"$WORK/out5" 2>&1 &
APP=$!
PIDS+=("$APP")
wait_guest_up b
drops=$(counter b tx_drops)
ctl fault b free-index >>"$WORK/ctl.log" 2>&1 || fail "fault free-index"
for _ in $(seq 300); do
    [ "$(counter b tx_drops)" -gt "$drops" ] && break
    sleep 0.1
done
[ "$(counter b tx_drops)" -gt "$drops" ] || fail "the receiver kept draining with no room on free"
ctl fault b clear >>"$WORK/ctl.log" 2>&1 || fail "fault clear b"
ctl fault a alloc-index >>"$WORK/ctl.log" 2>&1 || fail "fault alloc-index"
# Stalled: no frame from the sender in three polls in a row (it busy-polls;
# it cannot stop without having re-read the alloc index and refused it).
prev=-1 same=0
for _ in $(seq 300); do
    now=$(counter a rx_packets)
    if [ "$now" = "$prev" ]; then same=$((same + 1)); else same=0; fi
    [ $same -ge 3 ] && break
    prev=$now
    sleep 0.2
done
[ $same -ge 3 ] || fail "the sender kept sending without alloc buffers"
ctl fault a clear >>"$WORK/ctl.log" 2>&1 || fail "fault clear a"
# Traffic resumes once both are repaired.
for _ in $(seq 300); do
    [ "$(counter a rx_packets)" -gt "$now" ] && break
    sleep 0.1
done
[ "$(counter a rx_packets)" -gt "$now" ] || fail "traffic did not resume after clear"
kill -INT "$APP"
wait "$APP" || { cat "$WORK/out5"; fail "phase 5: crash"; }
grep -E "^result|PASS" "$WORK/out5"
tx_idx=$(xstat "$WORK/out5" 0 tx_ring_index_errors)
rx_idx=$(xstat "$WORK/out5" 1 rx_ring_index_errors)
echo "tx_ring_index_errors=$tx_idx rx_ring_index_errors=$rx_idx"
[ "${tx_idx:-0}" = 1 ] || fail "driver counted ${tx_idx:-no} alloc FIFO index episodes, not 1"
[ "${rx_idx:-0}" = 1 ] || fail "driver counted ${rx_idx:-no} free FIFO index episodes, not 1"

# Phase 6: control answers for another address and with a result that is no
# errno: each request fails cleanly (-EPROTO), is counted, and the next
# honest answer works again.
sent=$(counter a rx_packets)
# shellcheck disable=SC2046
"$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64 --seconds 1.5 --allow-loss --ctl-requests 3 >"$WORK/out6" 2>&1 &
APP=$!
PIDS+=("$APP")
# The faults apply to the next answers the switch posts, so they go in once
# the sender has started (its frames reach the switch). "up" is not enough:
# the switch reports it after the first of the three requests a start sends
# (configure, MTU, link up), and a fault landing on the other two failed the
# start with -EPROTO (seen under load).
for _ in $(seq 300); do
    [ "$(counter a rx_packets)" -gt "$sent" ] && break
    sleep 0.1
done
[ "$(counter a rx_packets)" -gt "$sent" ] || fail "phase 6: the sender never started"
ctl fault a resp-address >>"$WORK/ctl.log" 2>&1 || fail "fault resp-address"
ctl fault a resp-result >>"$WORK/ctl.log" 2>&1 || fail "fault resp-result"
wait "$APP" || { cat "$WORK/out6"; fail "phase 6: crash"; }
grep -E "^ctl|^result|PASS" "$WORK/out6"
grep -q "^ctl port=0 request=0 rc=-71$" "$WORK/out6" || fail "answer for another address not refused with -EPROTO"
grep -q "^ctl port=0 request=1 rc=-71$" "$WORK/out6" || fail "nonsense result not refused with -EPROTO"
grep -q "^ctl port=0 request=2 rc=0$" "$WORK/out6" || fail "an honest answer after the faults failed"
[ "$(xstat "$WORK/out6" 0 ctrl_errors)" = 2 ] || fail "driver counted $(xstat "$WORK/out6" 0 ctrl_errors) control errors, not 2"

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
