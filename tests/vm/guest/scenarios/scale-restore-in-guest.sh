# The offline set restored after a reboot from a real config drive: the
# host (hosts/scale_restore_in_guest.py) attaches an ISO 9660 image labelled
# config-2 whose metadata says CPUs 1 and 2 were offline. Boot 1 takes them
# offline by hand (the state before the VM stopped) and reboots; every CPU
# comes back online with the new boot, and boot 2 runs guest-scale-restore
# as its systemd oneshot does, reading the drive through the real isofs.
# Nothing persists across the reboot but the drive: /var/lib is a tmpfs here,
# so the last-known state cannot be the source.
. /scenarios/lib.sh

cpus_online() { cat /sys/devices/system/cpu/online; }
online_file() { cat /sys/devices/system/cpu/cpu$1/online; }
drive_device() { findfs LABEL=config-2; }

host_step boot || failures=$((failures + 1))
set -- $step_detail
boot=$1 drive_file=$2
echo "GSDK: boot $boot, offline set in $drive_file"

if [ "$boot" = 1 ]; then
    check "4 CPUs online at boot" test "$(cpus_online)" = 0-3
    check "the config drive is seen by its label" drive_device
    echo 0 > /sys/devices/system/cpu/cpu1/online
    echo 0 > /sys/devices/system/cpu/cpu2/online
    check "cpus 1 and 2 offline before the reboot" test "$(cpus_online)" = 0,3
    if [ "$failures" != 0 ]; then
        exit "$failures"
    fi
    echo "GSDK: rebooting"
    stty "$(stty -g)" 2>/dev/null || sleep 1
    reboot -f
    sleep 60  # the reset cuts this short
    exit 1
fi

check "second boot" test "$boot" = 2
check "4 CPUs online again after the reboot" test "$(cpus_online)" = 0-3
# What udev does on a real guest: the by-label link CONFIG_DRIVE names.
device=$(drive_device)
check "the config drive is still attached" test -b "$device"
mkdir -p /dev/disk/by-label /var/lib/guest-scale /run
ln -sf "$device" /dev/disk/by-label/config-2
# The unit's ExecStart, with the packaged settings (no metadata service is
# reachable: no network in this guest, so it falls through to the drive).
timeout -k 5 60 guest-scale-restore --config /etc/guest-scale/guest_scale.conf >/tmp/restore.log 2>&1
check "guest-scale-restore exited 0" test $? = 0
cat /tmp/restore.log
check "the offline set came from the config drive's $drive_file" \
    grep -q "offline set set(\[1, 2\]) from config drive $drive_file" /tmp/restore.log
check "cpu1 offline" test "$(online_file 1)" = 0
check "cpu2 offline" test "$(online_file 2)" = 0
check "cpu3 online" test "$(online_file 3)" = 1
check "CPUs 0 and 3 online" test "$(cpus_online)" = 0,3
check "the last-known state names cpus 1 and 2" grep -q "set(\[1, 2\])" /var/lib/guest-scale/offline_cpus
check "the drive was unmounted again" sh -c '! grep -q " iso9660 " /proc/mounts'
exit "$failures"
