# bench/guest_scale in the real guest (run by bench/guest_scale/run_in_guest.sh,
# not by ctest): server-groupd and guest-scaled as in scale-in-guest, QEMU's
# own agent qemu-ga on org.qemu.guest_agent.0, and this script doing the raw
# sysfs write when the host (hosts/scale_bench_in_guest.py) asks for it.
. /scenarios/lib.sh
. /scenarios/scale_lib.sh

start_scale_daemons
mkdir -p /var/run /tmp/qga
qemu-ga --method virtio-serial --path /dev/virtio-ports/org.qemu.guest_agent.0 \
    --statedir /tmp/qga >/tmp/qemu-ga.log 2>&1 3>&- &
ga=$!
[ "$failures" = 0 ] || { cat /tmp/*.log; exit "$failures"; }

# The host names each raw write as "raw CPU VALUE" and ends with "done".
answer=
while host_step next $answer; do
    case "$step_detail" in
        "raw "*)
            set -- $step_detail
            if echo "$3" > "/sys/devices/system/cpu/cpu$2/online"; then answer=ok; else answer=failed; fi
            ;;
        *) break ;;
    esac
done
check "the host finished the bench" test "$step_detail" = done
# Where "ours" spends its time: guest-scaled's own request -> answer time
# (its log line "scale down: CPU 3 offline ... in N ms"), and within it the
# sysfs write alone (its debug line "scale down request N: sysfs write N ms");
# the rest of "ours" is relays.
p50() { sort -n "$1" >"$1.sorted"; n=$(wc -l <"$1.sorted"); [ "$n" -gt 0 ] && sed -n "$((n / 2 + 1))p" "$1.sorted"; }
for d in down up; do
    awk -v d="$d:" '$3 == "scale" && $4 == d { for (i = 5; i < NF; i++) if ($i == "in") { print $(i + 1); break } }' \
        /tmp/guest-scaled.log >/tmp/daemon-$d.ms
    awk -v d="$d" '$3 == "scale" && $4 == d && $7 == "sysfs" && $8 == "write" { print $9 }' \
        /tmp/guest-scaled.log >/tmp/write-$d.ms
    awk -v d="$d" '$3 == "scale" && $4 == d && $7 == "sysfs" && $11 == "re-read" { print $12 }' \
        /tmp/guest-scaled.log >/tmp/reread-$d.ms
    awk -v d="$d" '$3 == "scale" && $4 == d && $7 == "sysfs" && $11 == "re-read" { print $18 }' \
        /tmp/guest-scaled.log | tr -d '(' >/tmp/before-$d.us
    awk -v d="$d" '$3 == "scale" && $4 == d && $7 == "sysfs" && $11 == "re-read" { print $23 }' \
        /tmp/guest-scaled.log | tr -d ',' >/tmp/back-$d.us
    awk -v d="$d" '$3 == "scale" && $4 == d && $7 == "sysfs" && $11 == "re-read" { print $28 }' \
        /tmp/guest-scaled.log >/tmp/toworker-$d.us
    n=$(wc -l </tmp/daemon-$d.ms)
    [ "$n" -gt 0 ] && echo "GSDK: guest-scaled's own time for scale $d, $n operations: p50 $(p50 /tmp/daemon-$d.ms) ms," \
        "of which the sysfs write p50 $(p50 /tmp/write-$d.ms) ms and the re-read p50 $(p50 /tmp/reread-$d.ms) ms;" \
        "p50 $(p50 /tmp/before-$d.us) us before the write, $(p50 /tmp/back-$d.us) us to hand back, $(p50 /tmp/toworker-$d.us) us to the worker"
done
check "4 CPUs online at the end" test "$(cat /sys/devices/system/cpu/online)" = 0-3
[ "$failures" = 0 ] || { cat /tmp/*.log; }
kill $ga $gsd $sgd
exit "$failures"
