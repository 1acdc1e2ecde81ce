# vCPU scaling in a real guest kernel (-smp 4, real CPU hotplug): server-groupd
# on the real cgcs.messaging port, guest-scaled on /sys, the example
# scale_worker choosing the CPU to give up; vmhostd and vmhostctl on the host
# (hosts/scale_in_guest.py) ask for the scale operations.
. /scenarios/lib.sh
. /scenarios/scale_lib.sh

show_logs() {
    echo "--- server-groupd log"; cat /tmp/server-groupd.log
    echo "--- guest-scaled log"; cat /tmp/guest-scaled.log
    echo "--- scale_worker log"; cat /tmp/scale_worker.log
}
online_file() { cat /sys/devices/system/cpu/cpu$1/online; }
cpus_online() { cat /sys/devices/system/cpu/online; }

check "4 CPUs online at boot" test "$(cpus_online)" = 0-3
check "cpu0 cannot be unplugged (no online file)" test ! -e /sys/devices/system/cpu/cpu0/online

start_scale_daemons
scale_worker --shards 5 --placement /tmp/placement >/tmp/scale_worker.log 2>&1 3>&- &
worker=$!
check "scale_worker subscribed as chooser" wait_until 30 grep -q "this worker chooses" /tmp/scale_worker.log

# 5 shards over CPUs 0-3 leave CPU 1 the lowest least-loaded: the worker's choice, not the default (3).
host_step scale down 1 || failures=$((failures + 1))
check "cpu1 offline in sysfs" test "$(online_file 1)" = 0
check "no shard left on cpu1" sh -c '! grep -q " 1$" /tmp/placement'
check "guest-scaled logged the application's choice" grep -q "CPU 1 offline (chosen by application)" /tmp/guest-scaled.log
# Two more: the host stops at min_vcpus 1, and cpu0 is still online.
host_step scale down any || failures=$((failures + 1))
host_step scale down any || failures=$((failures + 1))
check "only cpu0 online" test "$(cpus_online)" = 0
host_step scale-refused down || failures=$((failures + 1))
check "cpu0 still online" test "$(cpus_online)" = 0
check "the last-known state names cpus 1-3" wait_until 10 grep -q "set(\[1, 2, 3\])" /tmp/offline_cpus
# Back up: the host names the lowest offline CPU each time.
host_step scale up 1 || failures=$((failures + 1))
host_step scale up 2 || failures=$((failures + 1))
host_step scale up 3 || failures=$((failures + 1))
check "4 CPUs online again" test "$(cpus_online)" = 0-3
check "the worker spread onto the CPUs that came back" wait_until 10 grep -q " 3$" /tmp/placement

[ "$failures" = 0 ] || show_logs
kill $worker $gsd $sgd
exit "$failures"
