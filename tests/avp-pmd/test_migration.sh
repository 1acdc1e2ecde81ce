#!/usr/bin/env bash
# Live migration during traffic: the switch detaches and re-attaches first the
# receiving port, then the sending one, each time at new host addresses. The
# driver must not crash or corrupt anything, count what it lost, and carry on:
# frames sent after the last attach all arrive.
source "$(dirname "$0")/avp_test_lib.sh"

start_switch --port a,profile=file,path="$(region a)" \
             --port b,profile=file,path="$(region b)" --pair a,b

# shellcheck disable=SC2046
timeout -k 5 120 "$AVP_TRAFFIC" $(eal_common) -l 0 $(vdev a 0) $(vdev b 1) -- \
    --tx 0 --rx 1 --sizes 64,1500,9000 --seconds 10 --allow-loss --min-received 1000 \
    >"$WORK/out" 2>&1 &
APP=$!
PIDS+=("$APP")

wait_guest_up a
wait_guest_up b
sleep 1
# The guest acknowledges from an EAL alarm thread: on a loaded machine that
# can take seconds, so each step gets a generous deadline, not the 2 s default.
ctl migrate b detach 30000 >"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "detach b"; }
sleep 0.7
ctl migrate b attach 30000 >>"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "attach b"; }
sleep 1
ctl migrate a detach 30000 >>"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "detach a"; }
sleep 0.7
ctl migrate a attach 30000 >>"$WORK/ctl.log" 2>&1 || { cat "$WORK/ctl.log"; fail "attach a"; }

wait "$APP" || { cat "$WORK/out" "$WORK/ctl.log"; fail "traffic check failed (corruption, reordering or crash)"; }
grep -E "^result|PASS" "$WORK/out"
grep -E "migration_|detached" "$WORK/out"

for p in 0 1; do
    [ "$(xstat "$WORK/out" $p migration_detach)" = 1 ] || fail "port $p: detach not counted"
    [ "$(xstat "$WORK/out" $p migration_attach)" = 1 ] || fail "port $p: attach not counted"
    [ "$(xstat "$WORK/out" $p migration_errors)" = 0 ] || fail "port $p: migration errors"
done
# While a was detached its transmit dropped and counted.
[ "$(xstat "$WORK/out" 0 tx_detached_dropped)" -gt 0 ] || fail "no detached drops counted"
# Traffic resumed: nothing sent after the last attach was lost.
[ "$(result "$WORK/out" next)" = "$(result "$WORK/out" sent)" ] || fail "traffic did not resume"
# Each re-attach gave the port a new device id, and the driver read that one.
attached=$(awk '/"device_id"/ { id = $2 } /"state": "attach"/ { gsub(/[",]/, "", id); print id }' "$WORK/ctl.log")
[ "$(echo "$attached" | grep -c .)" = 2 ] || { cat "$WORK/ctl.log"; fail "expected two attaches with a device id"; }
# Compared as numbers: the switch prints ids zero-padded to 16 digits, the
# driver without leading zeros (1 id in 16 starts with a 0).
seen=$(sed -n 's/.*attached again (device id 0x\([0-9a-f]*\)).*/\1/p' "$WORK/out")
for id in $attached; do
    found=no
    for s in $seen; do [ $((16#$s)) -eq $((16#$id)) ] && found=yes; done
    [ $found = yes ] || { cat "$WORK/out"; fail "driver did not see device $id"; }
done
echo PASS
