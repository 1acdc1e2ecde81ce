# vCPU hot-plug in a real guest: QEMU starts with 2 of 4 vCPUs
# (-smp 2,maxcpus=4); for each scale up vmhostd first hot-adds a vCPU through
# QMP (device_add), and guest-scaled brings the new CPU online when it
# appears (hosts/scale_hotplug_in_guest.py).
. /scenarios/lib.sh
. /scenarios/scale_lib.sh

cpus_online() { cat /sys/devices/system/cpu/online; }
show_logs() {
    echo "--- guest-scaled log"; cat /tmp/guest-scaled.log
}

check "2 CPUs online at boot" test "$(cpus_online)" = 0-1
start_scale_daemons

host_step hot-add 2 || failures=$((failures + 1))
check "cpu2 plugged and online" test "$(cat /sys/devices/system/cpu/cpu2/online)" = 1
host_step hot-add 3 || failures=$((failures + 1))
check "4 CPUs online" test "$(cpus_online)" = 0-3
host_step scale-down 3 || failures=$((failures + 1))
check "cpu3 offline, cpu0 online" test "$(cpus_online)" = 0-2

[ "$failures" = 0 ] || show_logs
kill $gsd $sgd
exit "$failures"
